//! `cargo dingscope`: cargo runs this as `cargo-dingscope dingscope ARGS`.
fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "dingscope") {
        args.remove(0);
    }
    std::process::exit(dingscope_cli::main(args));
}
