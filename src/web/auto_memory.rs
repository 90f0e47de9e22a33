//! Auto's choice kept in localStorage, which the worker cannot reach: read when the page opens
//! and handed to the worker, written when the worker measures anew.

use gloo::storage::{LocalStorage, Storage};

use crate::backend::auto::AutoPick;

/// The localStorage key (the value is the [`AutoPick`] as JSON).
const KEY: &str = "resnet-lab.auto-backend";

/// The remembered choice, if any reads (a private window or an old format reads as none).
pub fn load() -> Option<AutoPick> {
    LocalStorage::get(KEY).ok()
}

/// Remembers `pick` (silently not, where storage is refused: Auto then measures next visit).
pub fn save(pick: &AutoPick) {
    let _ = LocalStorage::set(KEY, pick);
}

/// Forgets the choice: the next Auto run measures again.
pub fn forget() {
    LocalStorage::delete(KEY);
}
