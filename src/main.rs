//! The `surge` binary: everything lives in the library; see `surge::cli`.

fn main() {
    std::process::exit(surge::cli::main());
}
