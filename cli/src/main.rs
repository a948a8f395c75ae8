//! `dingscope`: manifests, drift checks and the catalog, from the command line.
fn main() {
    std::process::exit(dingscope_cli::main(std::env::args().skip(1).collect()));
}
