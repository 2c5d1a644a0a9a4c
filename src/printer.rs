//! The only place that writes to stdout and stderr.
//!
//! Owns: the result stream on stdout, progress and warnings on stderr, `--quiet`, and color
//! (`--color auto|always|never`, `NO_COLOR`, terminal detection). Every line that leaves the
//! process passes through [`crate::redact`] first, except the rendered YAML stream, which is the
//! repository's own content and must stay byte-exact.
//! Must not: decide what to say; commands and reports decide, the printer only writes.

use std::io::{IsTerminal, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

pub struct Printer {
    quiet: bool,
    color_out: bool,
    color_err: bool,
}

impl Printer {
    pub fn new(quiet: bool, color: ColorChoice) -> Printer {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let (out, err) = match color {
            ColorChoice::Always => (true, true),
            ColorChoice::Never => (false, false),
            ColorChoice::Auto if no_color => (false, false),
            ColorChoice::Auto => (
                std::io::stdout().is_terminal(),
                std::io::stderr().is_terminal(),
            ),
        };
        Printer {
            quiet,
            color_out: out,
            color_err: err,
        }
    }

    pub fn color_stdout(&self) -> bool {
        self.color_out
    }

    /// The command's result (YAML, a report): always printed, even with `--quiet`.
    pub fn out(&self, text: &str) {
        let text = crate::redact::redact(text);
        let mut lock = std::io::stdout().lock();
        let _ = lock.write_all(text.as_bytes());
        let _ = lock.flush();
    }

    /// Repository content written back verbatim (the rendered YAML stream): it is already in
    /// Git, and rewriting any byte of it would change what a pipe applies.
    pub fn out_raw(&self, text: &str) {
        let mut lock = std::io::stdout().lock();
        let _ = lock.write_all(text.as_bytes());
        let _ = lock.flush();
    }

    /// Progress for humans on stderr; silenced by `--quiet`.
    pub fn progress(&self, msg: &str) {
        if !self.quiet {
            self.err_line("", msg);
        }
    }

    /// A question on stderr, without a newline, for interactive confirmation.
    pub fn prompt(&self, msg: &str) {
        let mut lock = std::io::stderr().lock();
        let _ = write!(lock, "{}", crate::redact::redact(msg));
        let _ = lock.flush();
    }

    pub fn warn(&self, msg: &str) {
        let prefix = if self.color_err {
            "\x1b[33mwarning\x1b[0m: "
        } else {
            "warning: "
        };
        self.err_line(prefix, msg);
    }

    pub fn error(&self, msg: &str) {
        let prefix = if self.color_err {
            "\x1b[31merror\x1b[0m: "
        } else {
            "error: "
        };
        self.err_line(prefix, msg);
    }

    fn err_line(&self, prefix: &str, msg: &str) {
        let msg = crate::redact::redact(msg);
        let mut lock = std::io::stderr().lock();
        let _ = writeln!(lock, "{prefix}{msg}");
    }
}
