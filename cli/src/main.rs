//! `dingscope`: manifests, drift checks and the catalog, from the command line.
fn main() {
    std::process::exit(dingscope_cli::main_os(std::env::args_os(), 1));
}
