//! `doppel completions bash|zsh|fish`: shell completion scripts (clap_complete).

use crate::context::Context;
use crate::error::CliError;
use clap_complete::Shell;

/// Arguments of `doppel completions`.
#[derive(Debug, Clone, clap::Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script of `root` (the whole `doppel` command) for `shell`.
pub fn write(shell: Shell, root: &mut clap::Command, out: &mut dyn std::io::Write) {
    let name = root.get_name().to_string();
    clap_complete::generate(shell, root, name, out);
}

/// The client commands alone as a `doppel` command (the binary passes its full command
/// instead, with `server` and `stack`).
fn client_command() -> clap::Command {
    use clap::Subcommand;
    crate::Command::augment_subcommands(clap::Command::new("doppel"))
}

pub(crate) fn print(ctx: &mut Context, args: CompletionsArgs) -> Result<(), CliError> {
    let mut buf = Vec::new();
    write(args.shell, &mut client_command(), &mut buf);
    ctx.print(&String::from_utf8_lossy(&buf))
}
