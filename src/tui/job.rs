//! Job control: Ctrl-Z (a key, in raw mode) and a SIGTSTP from outside give the terminal back
//! and stop the process the way a shell expects of a job; on `fg` the terminal is taken again.
//! A SIGCONT the console did not ask for (`kill -STOP`, then `-CONT`) takes it again too.
//!
//! The same `EventStream` serves before and after: a stop halts every thread, crossterm's
//! reader included, so it reads nothing meant for the shell; its poll retries the EINTR the
//! signals cause; and raw mode is back on the same terminal before the loop reads a key.

#![allow(unsafe_code, reason = "libc signal calls have no safe wrapper in std")]

use std::io;
use std::task::{Context, Poll};

use tokio::signal::unix::{Signal, SignalKind, signal};

/// A job-control signal from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobSignal {
    /// SIGTSTP (`kill -TSTP`): suspend, as Ctrl-Z does.
    Stop,
    /// SIGCONT: the process runs again, perhaps after a stop it did not see coming, so the
    /// screen may hold anything by now.
    Continued,
}

/// The loop's hold on the terminal as a shell's job. Tests pass one that records.
pub trait JobControl: Send {
    /// Leaves the terminal as on exit, stops until continued (`fg`), then takes the terminal
    /// back. The loop redraws the whole screen afterwards.
    fn suspend(&mut self) -> Result<(), String>;
    /// After a continue: takes back what a shell may have reset meanwhile (raw mode above
    /// all). The loop redraws the whole screen afterwards.
    fn retake(&mut self) -> Result<(), String>;
    /// The next job-control signal from outside.
    fn poll_signal(&mut self, cx: &mut Context<'_>) -> Poll<JobSignal>;
}

/// No terminal of its own (tests with `TestBackend`): nothing to leave, no signals.
pub struct Detached;

impl JobControl for Detached {
    fn suspend(&mut self) -> Result<(), String> {
        Ok(())
    }

    fn retake(&mut self) -> Result<(), String> {
        Ok(())
    }

    fn poll_signal(&mut self, _cx: &mut Context<'_>) -> Poll<JobSignal> {
        Poll::Pending
    }
}

/// The real terminal, with SIGTSTP and SIGCONT caught from [`Tty::new`] on.
pub struct Tty {
    mouse: bool,
    stop: Option<Signal>,
    cont: Option<Signal>,
}

impl Tty {
    /// Must run inside the runtime: tokio's signal driver delivers the signals.
    pub fn new(mouse: bool) -> Self {
        let catch = |raw: i32, name: &str| {
            signal(SignalKind::from_raw(raw))
                .inspect_err(|e| tracing::warn!("cannot catch {name}: {e}; it acts by default"))
                .ok()
        };
        Self {
            mouse,
            stop: catch(libc::SIGTSTP, "SIGTSTP"),
            cont: catch(libc::SIGCONT, "SIGCONT"),
        }
    }
}

impl JobControl for Tty {
    fn suspend(&mut self) -> Result<(), String> {
        super::restore();
        let stopped = stop_job();
        let back = enter(self.mouse);
        stopped.map_err(|e| format!("not suspended: {e}"))?;
        back.map_err(|e| format!("the terminal could not be taken back: {e}"))
    }

    fn retake(&mut self) -> Result<(), String> {
        if !raw_now() {
            // crossterm believes raw mode is on and would do nothing: let it forget first.
            let _ = crossterm::terminal::disable_raw_mode();
        }
        enter(self.mouse).map_err(|e| format!("the terminal could not be taken back: {e}"))
    }

    fn poll_signal(&mut self, cx: &mut Context<'_>) -> Poll<JobSignal> {
        // A closed stream (the runtime going away) is never ready again, not a busy loop.
        if let Some(stop) = &mut self.stop
            && let Poll::Ready(Some(())) = stop.poll_recv(cx)
        {
            return Poll::Ready(JobSignal::Stop);
        }
        if let Some(cont) = &mut self.cont
            && let Poll::Ready(Some(())) = cont.poll_recv(cx)
        {
            return Poll::Ready(JobSignal::Continued);
        }
        Poll::Pending
    }
}

/// Raw mode, the alternate screen, bracketed paste and (with `mouse`) mouse capture: all that
/// [`super::restore`] undoes. The next frame hides the cursor again.
pub(super) fn enter(mouse: bool) -> io::Result<()> {
    crossterm::terminal::enable_raw_mode()?;
    crossterm::execute!(
        io::stdout(),
        crossterm::terminal::EnterAlternateScreen,
        crossterm::event::EnableBracketedPaste
    )?;
    if mouse {
        crossterm::execute!(io::stdout(), crossterm::event::EnableMouseCapture)?;
    }
    Ok(())
}

/// Stops the whole process group with SIGTSTP, as the terminal does on Ctrl-Z in cooked mode,
/// and returns once continued.
///
/// SIGTSTP rather than SIGSTOP: a shell sees either as a stopped job, but the kernel drops
/// SIGTSTP for a group no shell can resume (an orphaned one, under `sh -c` or a dead shell),
/// where SIGSTOP would stop the console for good. The group rather than this process: a
/// wrapper in the same job (`cargo run`, a script) must stop too, or the shell waits on it and
/// never gets the terminal back. The kernel hands a group's signal to the main thread first,
/// and the loop runs there (`block_on` in main), so the stop happens before `kill` returns.
fn stop_job() -> io::Result<()> {
    // SAFETY: plain libc calls on zeroed, then filled, `sigaction` structs that outlive them.
    // The handler saved (tokio's) is put back as it was, whether or not the kill succeeded.
    unsafe {
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut default.sa_mask);
        let mut caught: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGTSTP, &default, &mut caught) != 0 {
            return Err(io::Error::last_os_error());
        }
        let sent = libc::kill(0, libc::SIGTSTP);
        let error = io::Error::last_os_error();
        libc::sigaction(libc::SIGTSTP, &caught, std::ptr::null_mut());
        if sent != 0 {
            return Err(error);
        }
    }
    Ok(())
}

/// Whether the terminal is still in raw mode (no line editing, no echo), as a shell that took
/// it while the console was stopped may have changed it. Unknown counts as no.
fn raw_now() -> bool {
    // SAFETY: tcgetattr fills the zeroed struct it is given and touches nothing else.
    unsafe {
        let mut ios: libc::termios = std::mem::zeroed();
        libc::tcgetattr(libc::STDIN_FILENO, &mut ios) == 0
            && ios.c_lflag & (libc::ICANON | libc::ECHO) == 0
    }
}
