fn main() {
    dingscope_build::Build::new().run();
}
