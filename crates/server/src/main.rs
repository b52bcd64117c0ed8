//! `tollgate`: the server and the operator CLI.

use clap::Parser;

fn main() -> std::process::ExitCode {
    // The PDF worker (see tollgate_ocr::pdf_worker): a child this executable starts for each
    // PDF it parses or renders. Not a command for people, so not in --help; dispatched before
    // anything else starts (no runtime, no logging: its output is its answer).
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(tollgate_ocr::pdf_worker::SUBCOMMAND) {
        let code = tollgate_ocr::pdf_worker::main(&args[1..]);
        return std::process::ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    // Before any thread starts: the allocator settings the OCR models need (a re-exec with
    // GLIBC_TUNABLES set, unless the operator set it; see tollgate_ocr::malloc). Not for the
    // PDF worker above, which runs no model and starts once per document.
    tollgate_ocr::malloc::tune();
    serve()
}

#[tokio::main]
async fn serve() -> std::process::ExitCode {
    let cli = tollgate::cli::Cli::parse();
    if cli.command.is_server() {
        // The PDF workers this server starts run as its user: not dumpable, its memory and
        // /proc/<pid>/environ (the master key, database passwords) are closed to them.
        if let Err(e) =
            rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        {
            eprintln!("error: marking the server not dumpable: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    let telemetry = tollgate::logging::init(cli.command.is_server());
    let result = tollgate::cli::run(cli).await;
    telemetry.shutdown().await;
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
