//! The Gradient lab's settings, its presets, and their encoding in the share link.

use super::query::query_param;
use super::samples::SAMPLES;
use crate::analysis::gradients::Precision;
use crate::config::NormMode;
use crate::weights::InitKind;

/// Everything the lab's run depends on (also what the share link encodes).
#[derive(Clone, Debug, PartialEq)]
pub struct LabSettings {
    /// Initialization scheme (when not using the weights in use).
    pub init: InitKind,
    /// Gain on the init's standard deviation.
    pub gain: f64,
    /// Batch-norm mode.
    pub norm: NormMode,
    /// Input side.
    pub size: u32,
    /// Target class (`None` = top-1 of the residual network).
    pub target: Option<usize>,
    /// Seed.
    pub seed: u64,
    /// Use the weights in use instead of a fresh init.
    pub current_weights: bool,
    /// Arithmetic precision.
    pub precision: Precision,
    /// `current` (the image in Explore) or a sample name.
    pub image: String,
    /// Images per batch: the chosen image first, then the samples, then their mirror images.
    pub batch: usize,
}

/// The batch sizes the lab offers.
pub const BATCH_SIZES: [usize; 4] = [1, 2, 4, 8];

impl LabSettings {
    /// "Classic vanishing": no batch norm, Xavier.
    pub fn classic() -> Self {
        Self {
            init: InitKind::Xavier,
            gain: 1.0,
            norm: NormMode::Off,
            size: 64,
            target: None,
            seed: 0,
            current_weights: false,
            precision: Precision::F32,
            image: "current".into(),
            batch: 1,
        }
    }

    /// "As trained": batch norm in training mode, He; in float64, because float32 is
    /// ill-conditioned there (see `tests/gradient_parity.rs`).
    pub fn trained() -> Self {
        Self {
            init: InitKind::He,
            norm: NormMode::Train,
            precision: Precision::F64,
            ..Self::classic()
        }
    }

    /// "As trained, batch of 8": what training sees, batch statistics over 8 images at 224.
    /// In float32: float64 would need 4.6 GB there (2.5 GB in float32), past wasm32's 4 GB, and
    /// statistics over a batch are better conditioned than over one image.
    pub fn trained_batch() -> Self {
        Self {
            size: 224,
            batch: 8,
            precision: Precision::F32,
            ..Self::trained()
        }
    }

    fn norm_id(norm: NormMode) -> &'static str {
        match norm {
            NormMode::Train => "train",
            NormMode::Eval => "eval",
            NormMode::Off => "off",
        }
    }

    /// The settings as a query string (`section=gradient-lab&init=xavier&…`).
    pub fn to_query(&self) -> String {
        let mut q = format!(
            "section=gradient-lab&init={}&gain={}&bn={}&size={}&seed={}&weights_src={}&precision={}",
            if self.init == InitKind::He { "he" } else { "xavier" },
            self.gain,
            Self::norm_id(self.norm),
            self.size,
            self.seed,
            if self.current_weights { "current" } else { "init" },
            if self.precision == Precision::F64 { "f64" } else { "f32" },
        );
        if self.image != "current" {
            q.push_str(&format!("&image={}", self.image));
        }
        if let Some(t) = self.target {
            q.push_str(&format!("&target={t}"));
        }
        if self.batch > 1 {
            q.push_str(&format!("&batch={}", self.batch));
        }
        q
    }

    /// Settings from the page's query string, defaulting to the classic preset.
    pub fn from_query() -> Self {
        let mut s = Self::classic();
        if let Some(v) = query_param("init").and_then(|v| v.parse().ok()) {
            s.init = v;
        }
        if let Some(v) = query_param("gain").and_then(|v| v.parse().ok()) {
            s.gain = v;
        }
        if let Some(v) = query_param("bn").and_then(|v| v.parse().ok()) {
            s.norm = v;
        }
        if let Some(v) = query_param("size")
            .and_then(|v| v.parse().ok())
            .filter(|v| [64, 112, 224].contains(v))
        {
            s.size = v;
        }
        s.target = query_param("target")
            .and_then(|v| v.parse().ok())
            .filter(|t| *t < 1000);
        if let Some(v) = query_param("seed").and_then(|v| v.parse().ok()) {
            s.seed = v;
        }
        s.current_weights = query_param("weights_src").as_deref() == Some("current");
        match query_param("precision").as_deref() {
            Some("f64") => s.precision = Precision::F64,
            Some("f32") => s.precision = Precision::F32,
            // Unsaid: float64 where float32 is ill-conditioned, as the presets choose.
            _ if s.norm == NormMode::Train => s.precision = Precision::F64,
            _ => {}
        }
        if let Some(sample) = query_param("image").filter(|v| SAMPLES.contains(&v.as_str())) {
            s.image = sample;
        }
        if let Some(v) = query_param("batch")
            .and_then(|v| v.parse().ok())
            .filter(|v| BATCH_SIZES.contains(v))
        {
            s.batch = v;
        }
        s
    }
}
