//! Stand-alone pre-receive hook binary (used by tests; doppel itself runs `doppel git-hook pre-receive`).

fn main() {
    std::process::exit(doppel_git::hook::main());
}
