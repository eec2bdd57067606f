//! The console's pure core: [`State`], the [`Msg`]s that change it, and the [`Cmd`]s it asks the
//! loop to run. No I/O, no clocks, no async here: `update` is a plain function, easy to test.

pub mod alert_view;
pub mod casework;
pub mod history;
pub mod input_box;
pub mod keymap;
mod mouse;
pub mod msg;
pub mod remote;
mod selection;
pub mod state;
pub mod team;
pub mod theme;
pub mod tree;
pub mod update;
mod variant_names;

pub use alert_view::{AlertFilter, AlertSort};
pub use history::{History, Location};
pub use keymap::{Action, Binding, Key, Keymap, Rebinds};
pub use mouse::Hit;
pub use msg::{Cmd, Msg, Record};
pub use remote::Remote;
pub use state::{Badge, CaseView, Caveats, Editor, Focus, NoteDraft, Palette, State};
pub use theme::{ColorChoices, Role, Theme};
pub use tree::TreeView;
pub use update::update;
