//! The investigation tree over the panes: IPs visited, alerts opened, their related IPs.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::format::{short_id, tag_list};
use super::layout::{centered, first_row};
use crate::app::tree::Node;
use crate::app::{Action, State, TreeView};
use crate::case::Target;

pub fn render(state: &State, tree: &TreeView, frame: &mut Frame<'_>, area: Rect) {
    let theme = &state.theme;
    // Nearly the whole screen, the panes showing at its edges.
    let (margin_x, margin_y) = (2.min(area.width / 10), 1.min(area.height / 10));
    let popup = centered(area, area.width - 2 * margin_x, area.height - 2 * margin_y);
    let block = Block::bordered()
        .border_style(theme.focus())
        .title(Line::from(" Investigation ").style(theme.title()))
        .title_bottom(Line::styled(keys_line(state), theme.muted()).right_aligned());
    let inner = block.inner(popup);
    let rows = state.tree_rows();
    let lines: Vec<Line> = if rows.is_empty() {
        vec![Line::styled("Nothing visited yet.", theme.muted())]
    } else {
        // Only the rows in view are built; the cursor stays on screen.
        let height = usize::from(inner.height).max(1);
        let offset = first_row(tree.row, height);
        rows.iter()
            .enumerate()
            .skip(offset)
            .take(height)
            .map(|(i, r)| line(state, &r.node, r.depth, r.current, i == tree.row, tree))
            .collect()
    };
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}

/// " Enter: go there · Space/←/→: fold · Esc or g: close ", with the keys in force (folding
/// takes fixed keys).
fn keys_line(state: &State) -> String {
    let keymap = &state.keymap;
    let mut line = format!(
        " {}: go there · Space/←/→: fold ",
        keymap.hint(Action::Submit)
    );
    if let Some(close) = keymap.either(&[Action::Dismiss, Action::Tree]) {
        line.push_str(&format!("· {close}: close "));
    }
    line
}

fn line(
    state: &State,
    node: &Node,
    depth: u8,
    current: bool,
    selected: bool,
    tree: &crate::app::TreeView,
) -> Line<'static> {
    let theme = &state.theme;
    let indent = "  ".repeat(depth as usize);
    let mut spans = vec![Span::raw(format!(
        "{}{indent}",
        if selected { "▶" } else { " " }
    ))];
    match node {
        Node::Subject(subject) => {
            let fold = if tree.collapsed.contains(subject) {
                "▸"
            } else {
                "▾"
            };
            super::place_words::tree_head(state, subject, fold, &mut spans);
            push_tags(&mut spans, state, &Target::Place(subject.clone()));
        }
        Node::Alert(subject, id) => {
            let alert = state
                .alerts_at(subject)
                .and_then(|a| a.iter().find(|a| a.id == id.as_str()));
            spans.push(Span::styled("alert ", theme.muted()));
            if let Some(a) = alert {
                spans.push(Span::styled(
                    format!("{} ", a.severity),
                    theme.severity(&a.severity),
                ));
                spans.push(Span::raw(a.title.clone()));
                spans.push(Span::styled(
                    format!("  {}", short_id(id.as_str(), 20)),
                    theme.muted(),
                ));
            } else {
                spans.push(Span::raw(id.to_string()));
            }
            push_tags(&mut spans, state, &Target::Alert(id.clone()));
        }
        Node::Related { place, visited } => {
            let style = if *visited {
                theme.title()
            } else {
                theme.label()
            };
            let mark = if *visited { "●" } else { "○" };
            super::place_words::tree_related(state, place, mark, style, &mut spans);
            push_tags(&mut spans, state, &Target::Place(place.clone()));
        }
    }
    if current {
        spans.push(Span::styled("  ◀ you are here", theme.ok()));
    }
    let line = Line::from(spans);
    if selected {
        line.style(theme.selected())
    } else {
        line
    }
}

fn push_tags(spans: &mut Vec<Span<'static>>, state: &State, target: &Target) {
    let theme = &state.theme;
    let tags = tag_list(state.tags_of(target));
    if !tags.is_empty() {
        spans.push(Span::styled(format!("  {tags}"), theme.warn()));
    }
}
