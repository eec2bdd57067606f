//! Where each pane goes for the terminal's size, as one pure function that drawing and mouse
//! hit-testing both read, so a click lands on what was drawn there.
//!
//! ```text
//! compact (under 30 rows)      standard                     wide (from 160×30)
//! title                        title                        title
//! IP ▸ input (one line)        ┌ IP address ┐               ┌ IP address ───────────────┐
//! ┌Prev┐┌ Alerts ──────┐       ┌Prev┐┌ Alerts ──────┐       ┌ Prevalence ─┐┌ Alert ─────┐
//! └────┘└──────────────┘       └────┘└──────────────┘       ┌ Alerts ─────┐│            │
//! ┌ Alert ──────┐┌ IPs ┐       ┌ Alert ──────┐┌ IPs ┐       │  (full      │└────────────┘
//! └─────────────┘└─────┘       └─────────────┘└─────┘       │   height)   │┌ Rel. IPs ──┐
//! status                       status                       └─────────────┘└────────────┘
//! ```
//!
//! The wide layout reads left to right in the order of the pivot: the IP and its alerts, then
//! the opened alert and its IPs; the alerts table gets the whole height, where long lists live.

use std::ops::Range;

use ratatui::layout::{Constraint, Layout, Position, Rect};

/// Below this the panes cannot say anything useful; a message replaces them.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;
/// From this size on, the two halves stand side by side.
pub const WIDE_WIDTH: u16 = 160;
pub const WIDE_HEIGHT: u16 = 30;
/// Under this many rows the input box loses its border: two more rows for the lists.
pub const COMPACT_HEIGHT: u16 = 30;

/// The screen's arrangement, chosen from its size alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Compact,
    Standard,
    Wide,
}

/// Each region of the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panes {
    pub mode: Mode,
    pub title: Rect,
    pub input: Rect,
    pub stats: Rect,
    pub alerts: Rect,
    pub details: Rect,
    pub ips: Rect,
    pub status: Rect,
}

/// The panes for a screen of this size, or `None` when it is too small for any.
pub fn panes(area: Rect) -> Option<Panes> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let mode = if area.width >= WIDE_WIDTH && area.height >= WIDE_HEIGHT {
        Mode::Wide
    } else if area.height < COMPACT_HEIGHT {
        Mode::Compact
    } else {
        Mode::Standard
    };
    let input_height = if mode == Mode::Compact { 1 } else { 3 };
    let [title, input, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(input_height),
        Constraint::Min(8),
        Constraint::Length(1),
    ])
    .areas(area);
    let (stats, alerts, details, ips) = if mode == Mode::Wide {
        let [ip_side, alert_side] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(body);
        // Enough for the address, badges, count, first/last seen, age, tags and a note.
        let [stats, alerts] =
            Layout::vertical([Constraint::Length(10), Constraint::Min(5)]).areas(ip_side);
        let [details, ips] =
            Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)])
                .areas(alert_side);
        (stats, alerts, details, ips)
    } else {
        let [ip_half, alert_half] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(body);
        let stats_width = if area.width >= 120 { 34 } else { 28 };
        let [stats, alerts] =
            Layout::horizontal([Constraint::Length(stats_width), Constraint::Min(20)])
                .areas(ip_half);
        let [details, ips] =
            Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)])
                .areas(alert_half);
        (stats, alerts, details, ips)
    };
    Some(Panes {
        mode,
        title,
        input,
        stats,
        alerts,
        details,
        ips,
        status,
    })
}

/// The first row shown of a list of `len` rows with `selected` chosen and `rows` in view: the
/// selection stays in sight, at the bottom when the list scrolled past it.
pub fn first_row(selected: usize, rows: usize) -> usize {
    selected.saturating_sub(rows.max(1) - 1)
}

/// Where a list pane draws its rows. Each list pane has one function that answers it, read by
/// its `render` and by hit-testing, so a click lands on the row drawn under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rows {
    /// The screen lines the rows are drawn on: the pane's inside, below any header.
    pub area: Rect,
    /// How many rows the list has.
    pub len: usize,
    /// The selected row, within the list.
    pub selected: usize,
    /// The list's row drawn on `area`'s first line.
    pub offset: usize,
}

impl Rows {
    /// A list of `len` rows with `selected` chosen, drawn inside `inner` below `header` lines.
    pub fn new(inner: Rect, header: u16, len: usize, selected: usize) -> Self {
        let header = header.min(inner.height);
        let area = Rect {
            y: inner.y + header,
            height: inner.height - header,
            ..inner
        };
        let selected = selected.min(len.saturating_sub(1));
        Self {
            area,
            len,
            selected,
            offset: first_row(selected, usize::from(area.height)),
        }
    }

    /// The rows to build (never none, so a list squeezed to its header still has a selection).
    pub fn in_view(&self) -> Range<usize> {
        let fit = usize::from(self.area.height).max(1);
        self.offset..(self.offset + fit).min(self.len)
    }

    /// The selection's place among the rows built, for the table's state.
    pub fn selected_in_view(&self) -> usize {
        self.selected - self.offset
    }

    /// The list row drawn at `at`, if any.
    pub fn row_at(&self, at: Position) -> Option<usize> {
        if !self.area.contains(at) {
            return None;
        }
        let index = self.offset + usize::from(at.y - self.area.y);
        (index < self.len).then_some(index)
    }
}

/// A popup of `width`×`height` (cut to what fits) in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let (width, height) = (width.min(area.width), height.min(area.height));
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(w: u16, h: u16) -> Rect {
        Rect::new(0, 0, w, h)
    }

    #[test]
    fn mode_follows_the_size() {
        assert!(panes(rect(59, 24)).is_none());
        assert!(panes(rect(80, 15)).is_none());
        assert_eq!(panes(rect(80, 24)).unwrap().mode, Mode::Compact);
        assert_eq!(panes(rect(100, 30)).unwrap().mode, Mode::Standard);
        assert_eq!(panes(rect(200, 29)).unwrap().mode, Mode::Compact);
        assert_eq!(panes(rect(160, 30)).unwrap().mode, Mode::Wide);
        assert_eq!(panes(rect(200, 60)).unwrap().mode, Mode::Wide);
    }

    #[test]
    fn panes_tile_the_screen_without_overlap() {
        for (w, h) in [
            (60, 16),
            (80, 24),
            (120, 40),
            (160, 30),
            (200, 60),
            (400, 120),
        ] {
            let p = panes(rect(w, h)).unwrap();
            let all = [
                p.title, p.input, p.stats, p.alerts, p.details, p.ips, p.status,
            ];
            let cells: u32 = all.iter().map(|r| r.area()).sum();
            assert_eq!(cells, u32::from(w) * u32::from(h), "{w}x{h}: {p:?}");
            for (i, a) in all.iter().enumerate() {
                for b in &all[i + 1..] {
                    assert!(!a.intersects(*b), "{w}x{h}: {a:?} overlaps {b:?}");
                }
            }
        }
    }

    #[test]
    fn the_selection_stays_in_view() {
        assert_eq!(first_row(0, 5), 0);
        assert_eq!(first_row(4, 5), 0);
        assert_eq!(first_row(5, 5), 1);
        assert_eq!(first_row(9, 1), 9);
        assert_eq!(first_row(3, 0), 3);
    }

    #[test]
    fn rows_below_a_header_scroll_with_the_selection() {
        let inner = Rect::new(2, 5, 30, 6);
        let rows = Rows::new(inner, 1, 40, 12);
        assert_eq!(rows.area, Rect::new(2, 6, 30, 5));
        assert_eq!((rows.offset, rows.in_view()), (8, 8..13));
        assert_eq!(rows.selected_in_view(), 4);
        assert_eq!(rows.row_at(Position::new(2, 5)), None, "the header");
        assert_eq!(rows.row_at(Position::new(2, 6)), Some(8));
        assert_eq!(rows.row_at(Position::new(31, 10)), Some(12));
        assert_eq!(
            rows.row_at(Position::new(32, 10)),
            None,
            "right of the rows"
        );
        assert_eq!(rows.row_at(Position::new(2, 11)), None, "below the rows");
        // A short list: the lines under its last row are no row.
        let short = Rows::new(inner, 0, 2, 9);
        assert_eq!((short.selected, short.in_view()), (1, 0..2));
        assert_eq!(short.row_at(Position::new(2, 7)), None);
        // Squeezed to its header, a list still builds its selected row, and none is hit.
        let squeezed = Rows::new(Rect::new(0, 0, 10, 1), 1, 5, 3);
        assert_eq!(squeezed.in_view(), 3..4);
        assert_eq!(squeezed.row_at(Position::new(0, 0)), None);
        assert_eq!(Rows::new(inner, 1, 0, 0).row_at(Position::new(2, 6)), None);
    }

    #[test]
    fn a_popup_is_centred_and_cut_to_the_screen() {
        let area = Rect::new(0, 1, 80, 24);
        assert_eq!(centered(area, 40, 10), Rect::new(20, 8, 40, 10));
        assert_eq!(centered(area, 41, 9), Rect::new(19, 8, 41, 9));
        assert_eq!(centered(area, 100, 30), area);
    }
}
