//! The input box: the text typed, why a submission was refused, and its memory (Up/Down walk
//! the places looked up before, this session and the reopened case's trail). What it reads is
//! [`Subject::parse_typed`]'s to say: today IPs only.

use std::net::IpAddr;

use crossterm::event::{Event, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use crate::case::{Subject, Typed};

/// Most IPs kept for Up/Down.
const HISTORY: usize = 100;

#[derive(Debug, Default)]
pub struct InputBox {
    text: Input,
    /// Why the last submitted input was refused; cleared when the input changes.
    error: Option<String>,
    /// IPs looked up, oldest first, for Up/Down.
    history: Vec<String>,
    /// Where Up/Down stand in `history` while walking it.
    pos: Option<usize>,
    /// What the last lookup read past (`::ffff:10.209.67.177: IPv4-mapped, looked up as
    /// 10.209.67.177`), shown on the box until something is typed.
    read_past: Option<String>,
}

impl InputBox {
    pub fn value(&self) -> &str {
        self.text.value()
    }

    /// The text with its cursor and scroll, for drawing.
    pub fn text(&self) -> &Input {
        &self.text
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    pub fn read_past(&self) -> Option<&str> {
        self.read_past.as_deref()
    }

    /// IPs looked up, oldest first.
    pub fn history(&self) -> &[String] {
        &self.history
    }

    /// A key typed into the box; editing clears the complaint.
    pub fn type_key(&mut self, key: KeyEvent) {
        if self.text.handle_event(&Event::Key(key)).is_some() {
            self.error = None;
            self.read_past = None;
        }
    }

    /// Replaces the text (a paste answered with Esc, say).
    pub fn set(&mut self, text: impl Into<String>) {
        self.text = Input::new(text.into());
    }

    /// Pasted text at the end of what is there.
    pub fn append(&mut self, text: &str) {
        self.text = Input::new(format!("{}{}", self.text.value(), text));
    }

    pub fn clear(&mut self) {
        self.text.reset();
    }

    pub fn clear_error(&mut self) {
        self.error = None;
    }

    /// Enter: the place typed, remembered, and the box emptied; or the reason it is refused,
    /// kept to show, with the text left as typed to fix in place.
    pub fn submit(&mut self) -> Option<Typed> {
        match Subject::parse_typed(self.text.value()) {
            Ok(typed) => {
                self.text.reset();
                self.error = None;
                self.read_past = typed.read_past.clone();
                self.remember_text(typed.subject.id());
                Some(typed)
            }
            Err(e) => {
                self.error = Some(e.to_string());
                None
            }
        }
    }

    /// A looked-up IP becomes the newest entry of the history.
    pub fn remember(&mut self, ip: IpAddr) {
        self.remember_text(ip.to_string());
    }

    /// What reads back as a looked-up place becomes the newest entry of the history.
    fn remember_text(&mut self, text: String) {
        self.history.retain(|h| *h != text);
        self.history.push(text);
        if self.history.len() > HISTORY {
            self.history.remove(0);
        }
        self.pos = None;
    }

    /// Up (`older = true`) or Down: the previous or next IP looked up.
    pub fn walk(&mut self, older: bool) {
        let n = self.history.len();
        if n == 0 {
            return;
        }
        let pos = match (self.pos, older) {
            (None, true) => Some(n - 1),
            (None, false) => None,
            (Some(0), true) => Some(0),
            (Some(i), true) => Some(i - 1),
            (Some(i), false) if i + 1 < n => Some(i + 1),
            (Some(_), false) => None,
        };
        self.pos = pos;
        self.text = Input::new(pos.map(|i| self.history[i].clone()).unwrap_or_default());
        self.error = None;
    }
}
