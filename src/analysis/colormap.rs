//! Colormaps for feature maps: perceptually uniform viridis and magma, gray, and jet (the
//! heatmap colors of class activation maps in pytorch-grad-cam and most papers).

use serde::{Deserialize, Serialize};

/// A map from [0, 1] to RGB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Colormap {
    /// matplotlib's viridis.
    #[default]
    Viridis,
    /// matplotlib's magma.
    Magma,
    /// Black to white.
    Gray,
    /// matplotlib's jet: blue, cyan, yellow, red.
    Jet,
}

// Nine evenly spaced control points sampled from matplotlib's tables.
const VIRIDIS: [[u8; 3]; 9] = [
    [68, 1, 84],
    [71, 44, 122],
    [59, 81, 139],
    [44, 113, 142],
    [33, 144, 141],
    [39, 173, 129],
    [92, 200, 99],
    [170, 220, 50],
    [253, 231, 37],
];
const JET: [[u8; 3]; 9] = [
    [0, 0, 128],
    [0, 0, 255],
    [0, 128, 255],
    [21, 255, 226],
    [123, 255, 123],
    [226, 255, 21],
    [255, 151, 0],
    [255, 33, 0],
    [128, 0, 0],
];
const MAGMA: [[u8; 3]; 9] = [
    [0, 0, 4],
    [28, 16, 68],
    [79, 18, 123],
    [129, 37, 129],
    [181, 54, 122],
    [229, 80, 100],
    [251, 135, 97],
    [254, 194, 135],
    [252, 253, 191],
];

impl Colormap {
    /// All colormaps, for pickers.
    pub const ALL: [Colormap; 4] = [
        Colormap::Viridis,
        Colormap::Magma,
        Colormap::Gray,
        Colormap::Jet,
    ];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Colormap::Viridis => "viridis",
            Colormap::Magma => "magma",
            Colormap::Gray => "gray",
            Colormap::Jet => "jet",
        }
    }

    /// The colour of `t` (clamped to [0, 1]; NaN maps to 0).
    pub fn rgb(self, t: f32) -> [u8; 3] {
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let table = match self {
            Colormap::Gray => {
                let v = (t * 255.0).round() as u8;
                return [v, v, v];
            }
            Colormap::Viridis => &VIRIDIS,
            Colormap::Magma => &MAGMA,
            Colormap::Jet => &JET,
        };
        let x = t * (table.len() - 1) as f32;
        let i = (x.floor() as usize).min(table.len() - 2);
        let f = x - i as f32;
        let mix =
            |c: usize| (table[i][c] as f32 * (1.0 - f) + table[i + 1][c] as f32 * f).round() as u8;
        [mix(0), mix(1), mix(2)]
    }

    /// A 256-entry lookup table for 8-bit values.
    pub fn lut(self) -> [[u8; 3]; 256] {
        let mut lut = [[0u8; 3]; 256];
        for (i, entry) in lut.iter_mut().enumerate() {
            *entry = self.rgb(i as f32 / 255.0);
        }
        lut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_clamping() {
        assert_eq!(Colormap::Viridis.rgb(0.0), [68, 1, 84]);
        assert_eq!(Colormap::Viridis.rgb(1.0), [253, 231, 37]);
        assert_eq!(Colormap::Magma.rgb(2.0), [252, 253, 191]);
        assert_eq!(Colormap::Gray.rgb(f32::NAN), [0, 0, 0]);
        assert_eq!(Colormap::Gray.lut()[255], [255, 255, 255]);
    }

    #[test]
    fn viridis_gets_brighter() {
        let lum = |c: [u8; 3]| 0.3 * c[0] as f32 + 0.59 * c[1] as f32 + 0.11 * c[2] as f32;
        let lut = Colormap::Viridis.lut();
        assert!(lut.windows(32).all(|w| lum(w[31]) > lum(w[0])));
    }
}
