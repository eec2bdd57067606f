//! Drawing: a pure function of [`State`]. One `render` per screen region; where each region
//! goes for the screen's size (compact, standard, wide) is `layout`'s answer.

mod alerts_pane;
mod budget_popup;
mod details_pane;
mod device_pane;
mod editor_popup;
mod format;
mod help;
mod input_pane;
mod ips_pane;
pub mod layout;
mod mouse;
mod palette;
mod place_words;
mod stats_pane;
mod status_bar;
pub mod theme;
mod title_bar;
mod tree_popup;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::{Focus, Overlay, State};

pub use layout::{MIN_HEIGHT, MIN_WIDTH};
pub use mouse::hit;

pub fn draw(state: &State, frame: &mut Frame<'_>) {
    draw_panes(state, frame);
    palette::apply(state.palette, frame.buffer_mut());
}

fn draw_panes(state: &State, frame: &mut Frame<'_>) {
    let area = frame.area();
    let Some(layout::Panes {
        title,
        input,
        stats,
        alerts,
        details,
        ips,
        status,
        ..
    }) = layout::panes(area)
    else {
        too_small(frame, area);
        return;
    };
    title_bar::render(state, frame, title);
    input_pane::render(state, frame, input);
    place_words::head_pane(state, frame, stats);
    alerts_pane::render(state, frame, alerts);
    details_pane::render(state, frame, details);
    ips_pane::render(state, frame, ips);
    status_bar::render(state, frame, status);
    match &state.overlay {
        Overlay::None | Overlay::Paste(..) => {}
        Overlay::Help => help::render(state, frame, area),
        Overlay::Budget => budget_popup::render(state, frame, area),
        Overlay::Tree(tree) => tree_popup::render(state, tree, frame, area),
        Overlay::Editor(editor) => editor_popup::render(state, editor, frame, area),
    }
}

fn too_small(frame: &mut Frame<'_>, area: Rect) {
    let text = vec![
        Line::from("mde-triage: terminal too small"),
        Line::from(format!(
            "{}×{}, need {MIN_WIDTH}×{MIN_HEIGHT}",
            area.width, area.height
        )),
        Line::from("enlarge it, or q to quit"),
    ];
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
}

/// A pane's border style: highlighted when it has the keys.
fn border(state: &State, pane: Focus) -> ratatui::style::Style {
    let theme = &state.theme;
    if state.focus == pane && !state.popup() {
        theme.focus()
    } else {
        theme.border()
    }
}
