//! The page's views, one component per file: each takes the shared state (context) and
//! callbacks, renders child views, and imports no other view's helpers (those live in
//! `crate::web`).

pub mod architecture;
pub mod backend_panel;
pub mod cam_panel;
pub mod engine_status;
pub mod error_banner;
pub mod explore;
pub mod gradient_chart;
pub mod gradient_lab;
pub mod header;
pub mod image_picker;
pub mod learn;
pub mod offline_status;
pub mod predictions;
pub mod residual_view;
pub mod shell;
pub mod stage_panel;
pub mod weights_offer;
pub mod weights_panel;
