//! `cargo dingscope`: cargo runs this as `cargo-dingscope dingscope ARGS`.
fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let skip = if args.get(1).is_some_and(|a| a == "dingscope") {
        2
    } else {
        1
    };
    std::process::exit(dingscope_cli::main_os(args, skip));
}
