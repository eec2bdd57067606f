//! The console's pure core: [`State`], the [`Msg`]s that change it, and the [`Cmd`]s it asks the
//! loop to run. No I/O, no clocks, no async here: `update` is a plain function, easy to test.

pub mod alert_view;
pub mod casework;
pub mod history;
pub mod input_box;
pub mod keymap;
mod keys;
mod mouse;
pub mod msg;
mod navigate;
pub mod overlay;
mod paste;
pub mod place;
mod popup;
pub mod related;
pub mod remote;
pub mod responses;
mod selection;
pub mod state;
pub mod theme;
pub mod tree;
pub mod update;
mod variant_names;

pub use alert_view::{AlertFilter, AlertSort};
pub use history::{History, Location, Subject};
pub use input_box::InputBox;
pub use keymap::{Action, Binding, Key, Keymap, Rebinds};
pub use msg::{Cmd, Hit, Msg, Record};
pub use overlay::{Editor, Overlay, TreeView};
pub use remote::Remote;
pub use responses::Responses;
pub use state::{Badge, CaseView, Caveats, Focus, Holders, NoteDraft, Palette, State};
pub use theme::{ColorChoices, Role, Theme};
pub use update::update;
