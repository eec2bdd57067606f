//! Messages into the core, and commands out of it.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use super::state::Focus;
use crate::case::Target;
use crate::fetch::{FetchEvent, FetchRequest, Priority, Ticket};

/// Everything that can change [`super::State`].
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// Bracketed paste: the whole text at once.
    Paste(String),
    /// A left click on a pane (and list row) of the screen.
    Click(Hit),
    /// A step of the mouse wheel over a pane.
    Wheel {
        at: Hit,
        down: bool,
    },
    /// The terminal changed size; only a redraw is needed.
    Resize,
    /// The loop starts: show (and fetch) where a reopened case was left.
    Start,
    /// Word from the scheduler: an answer, a retry, the budget.
    Fetch(FetchEvent),
    /// The wall clock, sent by the loop each minute so ages ("as of 12 min ago") stay true.
    Clock(DateTime<Utc>),
    /// Saving to the database failed (`Some(why)`: the console works from memory) or works
    /// again (`None`).
    Saving(Option<String>),
    /// Something the loop did for the analyst (report written, text copied), to show.
    Notice(String),
    /// Animation step (spinner); sent only while something animates.
    Tick,
}

/// A pane, and the row of its list, under the pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub pane: Focus,
    pub row: Option<usize>,
}

/// Side effects the loop runs for the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    Fetch(FetchRequest),
    /// The view this ticket serves came into sight (raise) or was left (lower; its answer still
    /// fills the store, so coming back costs nothing). Never starts a call.
    Reprioritize(Ticket, Priority),
    /// Keep this in the case (the loop adds the case and the time).
    Record(Record),
    /// Write the case report (Markdown) to a file.
    Export,
    /// Put this text on the clipboard (OSC 52: works over SSH).
    Copy(String),
    /// Open this URL in a browser, if there is one here.
    Open(String),
    /// Give the terminal back and stop, as Ctrl-Z does to a program in a shell; on `fg` the
    /// loop takes the terminal again and redraws all of it.
    Suspend,
    /// End the console: the loop stops once the messages already waiting are through.
    Quit,
}

/// What the console asks to keep in its case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A new place in the trail.
    Visit(crate::case::Visit),
    /// Where the console is: the trail with its cursor, as JSON.
    Trail(String),
    /// The note being typed (JSON of [`super::NoteDraft`]), or none.
    Draft(Option<String>),
    Note {
        target: Target,
        text: String,
    },
    Tag {
        target: Target,
        tag: String,
        on: bool,
    },
}
