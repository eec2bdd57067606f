//! The event loop, and entering/leaving the real terminal.
//!
//! [`run`] takes the backend and the input stream as parameters, so tests drive the very same
//! loop with `TestBackend` and scripted keys. It redraws only when `update` marked the state
//! dirty and the inbox is drained, and ticks only while something animates: idle is idle.

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use anyhow::Context as _;
use crossterm::event::{Event, EventStream};
use futures_util::{Stream, StreamExt as _};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::{Interval, MissedTickBehavior};

use crate::app::{Cmd, Msg, State, update};
use crate::fetch::{FetchEvent, FetchHandle};
use crate::ui;

mod case_writer;
pub mod effects;
pub mod job;
pub use case_writer::CaseWriter;
pub use effects::Effects;
pub use job::{JobControl, JobSignal};

/// Everything the loop reaches outside the core and the scheduler: the case's database, the
/// clipboard and browser, and the terminal as a shell's job (Ctrl-Z, SIGTSTP, SIGCONT).
pub struct LoopIo {
    pub recorder: Option<CaseWriter>,
    pub effects: Box<dyn Effects>,
    pub job: Box<dyn JobControl>,
    /// The clock the core's ages read (`Msg::Clock`): the system's, but in tests.
    pub wall: crate::clock::Wall,
}

impl From<Option<CaseWriter>> for LoopIo {
    fn from(recorder: Option<CaseWriter>) -> Self {
        Self {
            recorder,
            effects: Box::new(effects::NoEffects),
            job: Box::new(job::Detached),
            wall: crate::clock::Wall::system(),
        }
    }
}

/// How often ages on screen ("as of 12 min ago") are brought up to date; a redraw follows
/// only when one reads differently.
const CLOCK: Duration = Duration::from_secs(60);

/// Spinner frame rate while something loads; nothing ticks otherwise.
const ANIMATION: Duration = Duration::from_millis(120);

/// Runs the console until the analyst quits or the input ends. Returns the final state.
pub async fn run<B, S>(
    terminal: &mut Terminal<B>,
    mut input: S,
    mut state: State,
    fetch: FetchHandle,
    mut events: UnboundedReceiver<FetchEvent>,
    edges: impl Into<LoopIo>,
) -> anyhow::Result<State>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = io::Result<Event>> + Unpin,
{
    let mut edges: LoopIo = edges.into();
    let mut ticker: Option<Interval> = None;
    let mut clock = tokio::time::interval(CLOCK);
    clock.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // The one queue of messages: input, the scheduler's word and the loop's own follow-ups.
    let mut inbox = VecDeque::from([Msg::Clock(edges.wall.now()), Msg::Start]);
    if edges.recorder.is_none() && state.case.is_some() {
        tracing::warn!("a case without a recorder: nothing will be saved");
    }
    terminal.draw(|f| ui::draw(&state, f))?;
    state.dirty = false;
    let mut after = LoopRequests::default();
    loop {
        if inbox.is_empty() {
            let next = tokio::select! {
                biased;
                ev = input.next() => match ev {
                    Some(ev) => input_msg(ev.context("reading the terminal")?, &state, screen(terminal)),
                    None => break, // stdin closed
                },
                // Each of our own stops is followed by its SIGCONT too: one redundant full
                // frame, where telling the continues apart would take guessing.
                signal = std::future::poll_fn(|cx| edges.job.poll_signal(cx)) => {
                    after.repaint = true;
                    let done = match signal {
                        JobSignal::Stop => edges.job.suspend(),
                        JobSignal::Continued => edges.job.retake(),
                    };
                    done.err().map(Msg::Notice)
                }
                ev = events.recv() => Some(Msg::Fetch(ev.context("the fetch scheduler stopped unexpectedly")?)),
                Some(h) = health(&mut edges.recorder) => Some(case_writer::health_msg(h)),
                _ = clock.tick() => Some(Msg::Clock(edges.wall.now())),
                () = tick(&mut ticker) => Some(Msg::Tick),
            };
            inbox.extend(next);
        }
        // Take every answer already waiting before drawing once. Input is not drained this way:
        // crossterm's EventStream keeps the first waker it saw, so polling it with a throwaway
        // waker (`now_or_never`) would leave the loop deaf to the next key.
        while let Ok(ev) = events.try_recv() {
            inbox.push_back(Msg::Fetch(ev));
        }
        run_inbox(&mut state, &mut inbox, |cmd| {
            exec(cmd, &fetch, &mut edges, &mut after)
        });
        if after.quit {
            break;
        }
        if after.repaint {
            redraw_all(terminal, &state)?;
            (after.repaint, state.dirty) = (false, false);
        } else if state.dirty {
            terminal.draw(|f| ui::draw(&state, f))?;
            state.dirty = false;
        }
        match (state.animating(), ticker.is_some()) {
            (true, false) => {
                let mut t = tokio::time::interval(ANIMATION);
                t.set_missed_tick_behavior(MissedTickBehavior::Skip);
                t.reset(); // the first tick comes after one period, not at once
                ticker = Some(t);
            }
            (false, true) => ticker = None,
            _ => {}
        }
    }
    Ok(state)
}

/// What the Cmds run so far ask of the loop once the inbox is through.
#[derive(Debug, Default)]
struct LoopRequests {
    /// The screen may hold anything (back from a stop): draw all of it, not a diff.
    repaint: bool,
    quit: bool,
}

/// Runs one Cmd outside the core; what it has to say back (a follow-up) is returned.
fn exec(
    cmd: Cmd,
    fetch: &FetchHandle,
    edges: &mut LoopIo,
    after: &mut LoopRequests,
) -> Option<Msg> {
    match cmd {
        Cmd::Fetch(request) => fetch.request(request),
        Cmd::Reprioritize(ticket, priority) => fetch.reprioritize(ticket, priority),
        Cmd::Record(record) => {
            if let Some(r) = &edges.recorder {
                r.record(record);
            }
        }
        Cmd::Export => {
            if let Some(r) = &edges.recorder {
                r.export();
            }
        }
        Cmd::Copy(text) => {
            return Some(Msg::Notice(match edges.effects.copy(&text) {
                Ok(()) => format!("copied {text}"),
                Err(why) => format!("not copied: {why}"),
            }));
        }
        Cmd::Open(url) => {
            return Some(Msg::Notice(match edges.effects.open(&url) {
                Ok(()) => format!("opened {url}"),
                // The link is still one keystroke away: put it on the clipboard.
                Err(why) => match edges.effects.copy(&url) {
                    Ok(()) => format!("{why}; the link was copied instead"),
                    Err(_) => format!("{why}: {url}"),
                },
            }));
        }
        Cmd::Suspend => {
            after.repaint = true;
            return edges.job.suspend().err().map(Msg::Notice);
        }
        Cmd::Quit => after.quit = true,
    }
    None
}

/// Runs every message waiting through `update`, and every Cmd it returns through `exec`; what
/// `exec` answers (a follow-up, such as "copied ...") joins the queue and is run the same way,
/// its Cmds included, until the queue is empty.
fn run_inbox(
    state: &mut State,
    inbox: &mut VecDeque<Msg>,
    mut exec: impl FnMut(Cmd) -> Option<Msg>,
) {
    while let Some(msg) = inbox.pop_front() {
        for cmd in update(state, msg) {
            inbox.extend(exec(cmd));
        }
    }
}

/// Clears the screen and draws every cell, trusting nothing the last frame left. Not
/// `Terminal::clear`: it asks the terminal where the cursor is, and crossterm reads the answer
/// only once the `EventStream` thread waiting for a key lets go of the input (2 s, then an
/// error that would end the console). For a full-screen viewport, `resize` clears the screen
/// and forgets the last frame without asking, at the size the terminal has now.
fn redraw_all<B: Backend>(terminal: &mut Terminal<B>, state: &State) -> Result<(), B::Error> {
    let area = ratatui::layout::Rect::from((ratatui::layout::Position::ORIGIN, terminal.size()?));
    terminal.resize(area)?;
    terminal.draw(|f| ui::draw(state, f))?;
    Ok(())
}

/// The whole screen, as the last frame was drawn on it.
fn screen<B: Backend>(terminal: &Terminal<B>) -> ratatui::layout::Rect {
    terminal
        .size()
        .map(|size| ratatui::layout::Rect::from((ratatui::layout::Position::ORIGIN, size)))
        .unwrap_or_default()
}

fn input_msg(event: Event, state: &State, screen: ratatui::layout::Rect) -> Option<Msg> {
    use crossterm::event::{MouseButton, MouseEventKind};
    match event {
        Event::Key(key) => {
            tracing::trace!(?key, "key");
            Some(Msg::Key(key))
        }
        Event::Paste(text) => Some(Msg::Paste(text)),
        Event::Resize(..) => Some(Msg::Resize),
        // Only what means something becomes a message: moves and releases draw nothing.
        Event::Mouse(m) => {
            let at = || ui::hit(state, screen, m.column, m.row);
            match m.kind {
                MouseEventKind::Down(MouseButton::Left) => at().map(Msg::Click),
                MouseEventKind::ScrollDown => at().map(|at| Msg::Wheel { at, down: true }),
                MouseEventKind::ScrollUp => at().map(|at| Msg::Wheel { at, down: false }),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The next word from the database writer; never, without a case.
async fn health(recorder: &mut Option<CaseWriter>) -> Option<crate::store::Health> {
    match recorder {
        Some(r) => r.health.recv().await,
        None => std::future::pending().await,
    }
}

async fn tick(ticker: &mut Option<Interval>) {
    match ticker {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Runs the console in the real terminal: raw mode, alternate screen, bracketed paste and (with
/// `mouse`) mouse capture, restored on every exit path (return, error, panic,
/// SIGTERM/SIGHUP/SIGINT), given back for a stop (Ctrl-Z, SIGTSTP) and taken again after it.
pub async fn run_in_terminal(
    state: State,
    fetch: FetchHandle,
    events: UnboundedReceiver<FetchEvent>,
    recorder: Option<CaseWriter>,
    mouse: bool,
    wall: crate::clock::Wall,
) -> anyhow::Result<()> {
    install_panic_hook();
    let mut terminal =
        ratatui::try_init().context("cannot start the terminal UI (is this a terminal?)")?;
    let _ = crossterm::execute!(io::stdout(), crossterm::event::EnableBracketedPaste);
    if mouse {
        let _ = crossterm::execute!(io::stdout(), crossterm::event::EnableMouseCapture);
    }
    inject_panic_for_tests();
    let result = tokio::select! {
        r = run(&mut terminal, EventStream::new(), state, fetch, events, LoopIo {
            recorder,
            effects: Box::new(effects::Terminal),
            job: Box::new(job::Tty::new(mouse)),
            wall,
        }) => r.map(drop),
        sig = termination() => {
            tracing::info!(signal = sig, "stopping on signal");
            Ok(())
        }
    };
    restore();
    result
}

fn restore() {
    // Disabling what was never enabled is harmless; forgetting one leaves the shell broken.
    let _ = crossterm::execute!(
        io::stdout(),
        crossterm::event::DisableMouseCapture,
        crossterm::event::DisableBracketedPaste,
        crossterm::cursor::Show
    );
    ratatui::restore();
}

/// A panic anywhere, a background task included, restores the terminal and ends the process:
/// a console whose fetcher died would only pretend to work.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        tracing::error!(%info, "panic");
        previous(info);
        std::process::exit(101);
    }));
}

/// Debug builds only: `MDE_TRIAGE_TEST_PANIC=task` (or `task:MS`) panics a background task
/// 300 ms (or MS) after the screen is up, so the terminal tests can prove that a panic anywhere
/// restores the terminal, ends the process, and loses no note being typed. Release builds have
/// no such switch.
fn inject_panic_for_tests() {
    #[cfg(debug_assertions)]
    if let Ok(spec) = std::env::var("MDE_TRIAGE_TEST_PANIC")
        && let Some(after) = spec.strip_prefix("task")
    {
        let ms = after
            .strip_prefix(':')
            .and_then(|n| n.parse().ok())
            .unwrap_or(300);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            panic!("injected by MDE_TRIAGE_TEST_PANIC");
        });
    }
}

/// Resolves when a signal asks us to stop. Ctrl-C in raw mode is a key, handled by `update`.
async fn termination() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = hup.recv() => "SIGHUP",
        _ = int.recv() => "SIGINT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn ctrl(c: char) -> Msg {
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
    }

    #[test]
    fn a_follow_ups_cmds_are_run_too() {
        let mut state = State::new(None, "api");
        let mut inbox = VecDeque::from([ctrl('z')]);
        let mut ran = Vec::new();
        // The stop fails, as if the terminal were not ours, and its follow-up is a message
        // whose Cmd (here Ctrl-C's Quit) must reach the loop like any other.
        run_inbox(&mut state, &mut inbox, |cmd| {
            ran.push(cmd.clone());
            (cmd == Cmd::Suspend).then(|| ctrl('c'))
        });
        assert_eq!(ran, vec![Cmd::Suspend, Cmd::Quit]);
        assert!(inbox.is_empty());
    }

    #[test]
    fn follow_ups_wait_behind_the_messages_already_queued() {
        let mut state = State::new(None, "api");
        let mut inbox = VecDeque::from([ctrl('z'), Msg::Notice("queued".into())]);
        run_inbox(&mut state, &mut inbox, |cmd| {
            (cmd == Cmd::Suspend).then(|| Msg::Notice("follow-up".into()))
        });
        assert_eq!(state.notice.as_deref(), Some("follow-up"), "run last");
    }
}
