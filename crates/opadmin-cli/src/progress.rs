//! Progress on stderr (indicatif), drawn only when stderr is a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

fn target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// A spinner with a message, for steps of unknown length (sign-in, sync).
pub fn spinner(message: impl Into<String>) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(None, target());
    let style = ProgressStyle::with_template("{spinner} {msg} {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    pb.set_style(style);
    pb.set_message(message.into());
    if !pb.is_hidden() {
        pb.enable_steady_tick(Duration::from_millis(100));
    }
    pb
}

/// A bar over `len` targets, for bulk actions.
pub fn bar(len: usize, message: impl Into<String>) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(Some(len as u64), target());
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    pb.set_style(style);
    pb.set_message(message.into());
    pb
}
