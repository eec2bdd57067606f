//! The pivot trail: where the analyst has been, with browser-like back and forward.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

pub use crate::case::Subject;
use crate::defender::{AlertId, DeviceId};

/// One place in the trail: an IP or a device, and the alert opened from its list, if any.
/// Saved trails from before devices (`{"ip": ..}`) read as they were: the subject is
/// flattened, so an IP place keeps its `ip` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    #[serde(flatten)]
    pub subject: Subject,
    pub alert: Option<AlertId>,
    /// Selection in the alerts table and the related-IPs list, restored on back/forward.
    pub alert_row: usize,
    pub ip_row: usize,
}

impl Location {
    pub fn ip(ip: IpAddr) -> Self {
        Self::of(Subject::Ip(ip))
    }

    pub fn device(id: DeviceId) -> Self {
        Self::of(Subject::Device(id))
    }

    /// A place of any kind, with nothing opened or selected yet.
    pub fn of(subject: Subject) -> Self {
        Self {
            subject,
            alert: None,
            alert_row: 0,
            ip_row: 0,
        }
    }
}

/// A trail with a cursor. Visiting a new place drops the forward part, as browsers do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    entries: Vec<Location>,
    cursor: usize,
}

impl History {
    /// Most places kept; the oldest are forgotten first.
    pub const MAX: usize = 200;

    pub fn current(&self) -> Option<&Location> {
        self.entries.get(self.cursor)
    }

    pub fn current_mut(&mut self) -> Option<&mut Location> {
        self.entries.get_mut(self.cursor)
    }

    /// Goes to `loc`. Returns false (and changes nothing) when it is where we already are.
    pub fn visit(&mut self, loc: Location) -> bool {
        if let Some(cur) = self.current()
            && cur.subject == loc.subject
            && cur.alert == loc.alert
        {
            return false;
        }
        if !self.entries.is_empty() {
            self.entries.truncate(self.cursor + 1);
        }
        self.entries.push(loc);
        if self.entries.len() > Self::MAX {
            self.entries.remove(0);
        }
        self.cursor = self.entries.len() - 1;
        true
    }

    pub fn back(&mut self) -> bool {
        if self.cursor > 0 {
            self.cursor -= 1;
            true
        } else {
            false
        }
    }

    pub fn forward(&mut self) -> bool {
        if self.cursor + 1 < self.entries.len() {
            self.cursor += 1;
            true
        } else {
            false
        }
    }

    pub fn entries(&self) -> &[Location] {
        &self.entries
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// A saved trail, checked: an empty or inconsistent one (a cursor past the end, from a
    /// hand-edited or damaged database) gives `None` rather than a console in a broken place.
    pub fn restore(json: &str) -> Option<History> {
        let h: History = serde_json::from_str(json).ok()?;
        (h.cursor < h.entries.len() && h.entries.len() <= Self::MAX).then_some(h)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a trail always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Location {
        Location::ip(s.parse().unwrap())
    }

    #[test]
    fn back_forward_and_branching() {
        let mut h = History::default();
        assert!(!h.back());
        h.visit(ip("10.0.0.1"));
        h.visit(ip("10.0.0.2"));
        h.visit(ip("10.0.0.3"));
        assert!(h.back());
        assert!(h.back());
        assert!(!h.back());
        assert_eq!(h.current().unwrap().subject.to_string(), "10.0.0.1");
        assert!(h.forward());
        h.visit(ip("10.0.0.9"));
        assert!(!h.forward(), "visiting drops the forward trail");
        assert_eq!(h.entries().len(), 3);
        assert!(!h.visit(ip("10.0.0.9")), "same place twice is one entry");
    }

    #[test]
    fn trail_is_bounded() {
        let mut h = History::default();
        for i in 0..(History::MAX + 10) {
            h.visit(ip(&format!("10.0.{}.{}", i / 256, i % 256)));
        }
        assert_eq!(h.entries().len(), History::MAX);
        assert_eq!(h.cursor(), History::MAX - 1);
    }
}
