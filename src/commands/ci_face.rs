//! The CI face of diff and apply: the sticky merge-request comment and job summary for a
//! diff, the notifications after an apply, and GitHub step outputs. Failures here are
//! warnings: they never change a command's exit code.

use std::time::Duration;

use crate::cluster::Endpoint;
use crate::cluster::execute::{ApplyResult, Outcome};
use crate::exit::Failure;
use crate::notify::{
    self, CiEnv, CommentOutcome, CommentTarget, Event, EventKind, Http, ObjectNote,
};
use crate::plan::Plan;
use crate::printer::Printer;
use crate::report;
use crate::settings::{Environment, Settings};

/// Posts (or updates) the environment's diff comment, and the job summary on GitHub.
pub fn post_diff(
    _settings: &Settings,
    env: &Environment,
    plan: &Plan,
    printer: &Printer,
) -> Result<(), Failure> {
    let ci = CiEnv::from_process();
    let target = CommentTarget::from_env(&ci);
    let body = report::plan::markdown(plan, target.budget(&env.name));
    match notify::append_job_summary(&ci, &body) {
        Ok(_) => {}
        Err(e) => printer.warn(&format!("job summary: {e}")),
    }
    let http = match Http::new() {
        Ok(h) => h,
        Err(e) => {
            printer.warn(&format!("diff comment: {e}"));
            return Ok(());
        }
    };
    let rt = super::runtime()?;
    match rt.block_on(notify::post_sticky(&http, &target, &env.name, &body)) {
        Ok(CommentOutcome::Skipped(skip)) => printer.warn(&skip.to_string()),
        Ok(outcome) => printer.progress(&outcome.to_string()),
        Err(e) => printer.warn(&format!("diff comment for `{}`: {e}", env.name)),
    }
    Ok(())
}

/// Writes GitHub step outputs (`changes`, `errors`) when running as an action.
pub fn write_outputs(changes: usize, errors: usize, printer: &Printer) {
    let ci = CiEnv::from_process();
    if let Err(e) = notify::write_outputs(
        &ci,
        &[
            ("changes", changes.to_string()),
            ("errors", errors.to_string()),
        ],
    ) {
        printer.warn(&format!("step outputs: {e}"));
    }
}

/// The notification event for an apply result.
pub fn apply_event(
    env: &Environment,
    endpoint: &Endpoint,
    result: &ApplyResult,
    ci: &CiEnv,
) -> Event {
    let kind = if result.failed() || !result.healthy() {
        EventKind::Failed
    } else {
        EventKind::Deployed
    };
    let mut event = Event::new(kind, env.name.clone(), ci);
    event.cluster = Some(format!("{} ({})", endpoint.context, endpoint.server));
    event.counts = notify::Counts {
        created: result.count(Outcome::Created),
        configured: result.count(Outcome::Configured),
        unchanged: result.count(Outcome::Unchanged),
        pruned: result.count(Outcome::Pruned),
        failed: result.count(Outcome::Failed),
    };
    event.failed = result
        .objects
        .iter()
        .filter(|o| o.outcome == Outcome::Failed)
        .map(|o| ObjectNote::new(o.id.to_string(), o.message.clone().unwrap_or_default()))
        .collect();
    event.unhealthy = result
        .unhealthy
        .iter()
        .map(|(o, w)| ObjectNote::new(o.clone(), w.clone()))
        .collect();
    event.duration = Some(result.duration);
    event
}

/// Sends the environment's notifications for an event; every problem is a warning.
pub fn send_event(
    settings: &Settings,
    env: &Environment,
    event: &Event,
    ci: &CiEnv,
    printer: &Printer,
) {
    if env.notify.is_empty() {
        return;
    }
    let http = match Http::new() {
        Ok(h) => h,
        Err(e) => {
            printer.warn(&format!("notifications: {e}"));
            return;
        }
    };
    let Ok(rt) = super::runtime() else {
        printer.warn("notifications: cannot start the async runtime");
        return;
    };
    let warnings = rt.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(120),
            notify::send(&http, ci, &settings.notifications, &env.notify, event),
        )
        .await
        .unwrap_or_else(|_| vec![])
    });
    for w in warnings {
        printer.warn(&w.message);
    }
}

/// After an apply: notifications and step outputs.
pub fn after_apply(
    settings: &Settings,
    env: &Environment,
    endpoint: &Endpoint,
    result: &ApplyResult,
    printer: &Printer,
) {
    let ci = CiEnv::from_process();
    let event = apply_event(env, endpoint, result, &ci);
    send_event(settings, env, &event, &ci, printer);
    let changes = result.count(Outcome::Created)
        + result.count(Outcome::Configured)
        + result.count(Outcome::Pruned);
    let errors = result.count(Outcome::Failed) + result.unhealthy.len();
    write_outputs(changes, errors, printer);
}
