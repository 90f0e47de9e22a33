//! Auto's choice kept in localStorage, which the worker cannot reach: read when the page opens
//! and handed to the worker, written when the worker measures anew.
//!
//! Through web-sys's `Storage` rather than gloo's `LocalStorage`: gloo panics where the browser
//! blocks site data (`failed to get local_storage`), which would take the whole page down.

use crate::backend::auto::AutoPick;

/// The localStorage key (the value is the [`AutoPick`] as JSON).
const KEY: &str = "resnet-lab.auto-backend";

/// The page's localStorage, or `None` where the browser refuses it (site data blocked).
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The remembered choice, if any reads (blocked storage or an old format reads as none).
pub fn load() -> Option<AutoPick> {
    let json = storage()?.get_item(KEY).ok().flatten()?;
    serde_json::from_str(&json).ok()
}

/// Remembers `pick` (silently not, where storage is refused: Auto then measures next visit).
pub fn save(pick: &AutoPick) {
    if let (Some(storage), Ok(json)) = (storage(), serde_json::to_string(pick)) {
        let _ = storage.set_item(KEY, &json);
    }
}

/// Forgets the choice: the next Auto run measures again.
pub fn forget() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(KEY);
    }
}
