//! The case side of `update`: notes and tags typed in small editors, drafts saved on every
//! keystroke, the trail kept, the report asked for, ages kept true by the clock.

use std::net::IpAddr;

use crossterm::event::{Event, KeyCode, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use super::history::History;
use super::msg::{Cmd, Record};
use super::overlay::{Editor, Overlay};
use super::state::{CaseView, Focus, Holders, NoteDraft, State};
use crate::case::SavedCase;
use crate::case::{MAX_NOTE, Note, Target, VERDICTS, clean_tag};
use crate::defender::{FetchKey, parse_alert_id};
use crate::fetch::Priority;

impl State {
    /// Opens the console on a saved case: its trail where it was left, its notes and tags, and
    /// a note that was being typed, back in its editor.
    pub fn reopen(&mut self, name: &str, saved: SavedCase) {
        let mut case = CaseView::new(name);
        case.notes = saved.notes;
        for (target, tag) in saved.tags {
            case.tags.entry(target).or_default().push(tag);
        }
        self.case = Some(case);
        if let Some(history) = saved.trail.as_deref().and_then(History::restore) {
            for ip in history.entries().iter().filter_map(|l| l.subject.ip()) {
                self.input.remember(ip);
            }
            self.history = history;
        }
        if let Some(draft) = saved
            .draft
            .as_deref()
            .and_then(|d| serde_json::from_str::<NoteDraft>(d).ok())
        {
            self.overlay = Overlay::Editor(Editor::Note {
                target: draft.target,
                input: Input::new(draft.text),
            });
            self.notice = Some("the note you were typing is back: Enter keeps it".into());
        }
        self.dirty = true;
    }
}

/// The IP or alert a note or tag is for: the selected row, else what the screen is about.
pub fn selected_target(state: &State) -> Option<Target> {
    let loc = state.location()?;
    match state.focus {
        Focus::Alerts => {
            let alert = state.selected_alert()?;
            parse_alert_id(&alert.id).ok().map(Target::Alert)
        }
        Focus::Ips => state.selected_related()?.place.map(Target::Place),
        Focus::Input | Focus::Details => Some(match (&loc.alert, &loc.subject) {
            (Some(id), _) => Target::Alert(id.clone()),
            (None, subject) => Target::Place(subject.clone()),
        }),
    }
}

/// `n`: the note left as a draft, else a new one on the selection.
pub fn open_note(state: &mut State) {
    if let Some(draft) = state.draft.take() {
        state.overlay = Overlay::Editor(Editor::Note {
            target: draft.target,
            input: Input::new(draft.text),
        });
        return;
    }
    open_editor(state, "notes", |target, input| Editor::Note {
        target,
        input,
    });
}

/// `w`: the time to ask which device held the internal IP on screen, prefilled with the one
/// in use (given before, or the opened alert's).
pub fn open_held_at(state: &mut State) {
    let Some(ip) = state.location().and_then(|l| l.subject.ip()) else {
        state.notice = Some("look up an internal IP first: w asks which device held it".into());
        return;
    };
    if !crate::defender::findbyip::is_internal(ip) {
        state.notice = Some(format!(
            "{ip} is not an internal address: devices are looked up by internal IPs only"
        ));
        return;
    }
    let shown = match state.holders_key() {
        Ok(FetchKey::DevicesAt(_, at)) => at.to_string(),
        _ => String::new(),
    };
    state.overlay = Overlay::Editor(Editor::HeldAt {
        ip,
        input: Input::new(shown),
    });
}

/// Enter in the time editor: ask at that time; empty goes back to the opened alert's time.
fn held_at(state: &mut State, ip: IpAddr, text: &str, cmds: &mut Vec<Cmd>) {
    if text.trim().is_empty() {
        state.held_at.remove(&ip);
        state.overlay = Overlay::None;
    } else {
        let Some(at) = crate::defender::findbyip::parse_at(text) else {
            // The editor stays open with what was typed, to be fixed.
            state.notice = Some(format!(
                "'{}' is not a time like 2026-11-20T09:14:00Z or 2026-11-20 09:14 (UTC)",
                crate::defender::indicator::shown(text)
            ));
            return;
        };
        state.held_at.insert(ip, at);
        state.overlay = Overlay::None;
    }
    match state.holders_key() {
        Ok(key) => super::navigate::ensure(state, key, Priority::Foreground, cmds),
        // Said on the pane ("not asked" and why); the notice says it now too.
        Err(Holders::Refused(why)) => state.notice = Some(format!("not asked: {why}")),
        Err(Holders::NoAlert) => {}
    }
}

/// `t`: the tag editor on the selection.
pub fn open_tag(state: &mut State) {
    open_editor(state, "tags", |target, input| Editor::Tag { target, input });
}

fn open_editor(state: &mut State, what: &str, editor: fn(Target, Input) -> Editor) {
    match selected_target(state) {
        Some(target) => state.overlay = Overlay::Editor(editor(target, Input::default())),
        None => {
            state.notice = Some(format!(
                "look up an IP first; {what} belong to an IP, an alert or a device"
            ))
        }
    }
}

pub fn export(state: &mut State, cmds: &mut Vec<Cmd>) {
    if state.case.is_none() {
        state.notice = Some("no case is being recorded, so there is nothing to export".into());
        return;
    }
    state.notice = Some("writing the report…".into());
    cmds.push(Cmd::Export);
}

/// Keys while an editor is open. Enter keeps, Esc leaves (a note's text stays as a draft).
pub fn editor_key(state: &mut State, key: KeyEvent, cmds: &mut Vec<Cmd>) {
    let Overlay::Editor(editor) = &mut state.overlay else {
        return;
    };
    match (editor, key.code) {
        (Editor::Note { target, input }, KeyCode::Enter) => {
            let text = crate::defender::sanitize::clean(input.value());
            let text: String = text.trim().chars().take(MAX_NOTE).collect();
            let target = target.clone();
            state.overlay = Overlay::None;
            if !text.is_empty() {
                add_note(state, target, text, cmds);
            }
            save_draft(state, cmds);
        }
        (Editor::Note { target, input }, KeyCode::Esc) => {
            // Leaving is not discarding: the text waits (saved) until `n` opens it again.
            state.draft = (!input.value().trim().is_empty()).then(|| NoteDraft {
                target: target.clone(),
                text: input.value().to_owned(),
            });
            state.overlay = Overlay::None;
            if state.draft.is_some() {
                state.notice = Some("note kept as a draft: n to go on with it".into());
            } else {
                save_draft(state, cmds);
            }
        }
        (Editor::Tag { target, input }, KeyCode::Char(d @ '1'..='4'))
            if input.value().is_empty() =>
        {
            let tag = VERDICTS[d as usize - '1' as usize].to_owned();
            let target = target.clone();
            state.overlay = Overlay::None;
            toggle_tag(state, target, tag, cmds);
        }
        (Editor::Tag { target, input }, KeyCode::Enter) => {
            let (target, tag) = (target.clone(), clean_tag(input.value()));
            state.overlay = Overlay::None;
            if let Some(tag) = tag {
                toggle_tag(state, target, tag, cmds);
            }
        }
        (Editor::Tag { .. } | Editor::HeldAt { .. }, KeyCode::Esc) => state.overlay = Overlay::None,
        (Editor::HeldAt { ip, input }, KeyCode::Enter) => {
            let (ip, text) = (*ip, input.value().to_owned());
            held_at(state, ip, &text, cmds);
        }
        (
            Editor::Note { input, .. } | Editor::Tag { input, .. } | Editor::HeldAt { input, .. },
            _,
        ) => {
            let changed = input
                .handle_event(&Event::Key(key))
                .is_some_and(|c| c.value);
            if changed && matches!(state.overlay, Overlay::Editor(Editor::Note { .. })) {
                save_draft(state, cmds);
            }
        }
    }
}

/// Pasted text goes into the open editor, on one line.
pub fn paste(state: &mut State, text: &str, cmds: &mut Vec<Cmd>) {
    let flat = crate::defender::sanitize::one_line(text);
    if let Overlay::Editor(
        Editor::Note { input, .. } | Editor::Tag { input, .. } | Editor::HeldAt { input, .. },
    ) = &mut state.overlay
    {
        *input = Input::new(format!("{}{}", input.value(), flat.trim_end()));
    }
    save_draft(state, cmds);
}

fn add_note(state: &mut State, target: Target, text: String, cmds: &mut Vec<Cmd>) {
    let at = state.now.unwrap_or_default();
    if let Some(case) = state.case.as_mut() {
        case.notes.push((
            target.clone(),
            Note {
                at,
                text: text.clone(),
            },
        ));
        cmds.push(Cmd::Record(Record::Note {
            target: target.clone(),
            text,
        }));
        state.notice = Some(format!("note saved on {target}"));
    } else {
        state.notice = Some("no case is being recorded: the note was not kept".into());
    }
}

/// Adds the tag, or takes it off when it is already there.
fn toggle_tag(state: &mut State, target: Target, tag: String, cmds: &mut Vec<Cmd>) {
    let Some(case) = state.case.as_mut() else {
        state.notice = Some("no case is being recorded: the tag was not kept".into());
        return;
    };
    let tags = case.tags.entry(target.clone()).or_default();
    let on = !tags.contains(&tag);
    if on {
        tags.push(tag.clone());
    } else {
        tags.retain(|t| *t != tag);
    }
    state.notice = Some(format!(
        "{} '{tag}' {} {target}",
        if on { "tagged" } else { "removed" },
        if on { "on" } else { "from" }
    ));
    cmds.push(Cmd::Record(Record::Tag { target, tag, on }));
}

/// The note being typed, kept on every change so nothing typed is lost to a crash.
fn save_draft(state: &State, cmds: &mut Vec<Cmd>) {
    if state.case.is_none() {
        return;
    }
    let draft = match &state.overlay {
        Overlay::Editor(Editor::Note { target, input }) if !input.value().is_empty() => Some(
            serde_json::to_string(&NoteDraft {
                target: target.clone(),
                text: input.value().to_owned(),
            })
            .expect("a draft always serialises"),
        ),
        _ => None,
    };
    cmds.push(Cmd::Record(Record::Draft(draft)));
}
