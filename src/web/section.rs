//! The page's four main views, by stable id and localized name.

use super::i18n::Lang;

/// The four main views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// The tutorial, interactive.
    Learn,
    /// Image → predictions → feature maps.
    Explore,
    /// Gradient norms with and without skips.
    GradientLab,
    /// Weights, backend, language.
    Settings,
}

impl Section {
    /// All sections in header order.
    pub const ALL: [Section; 4] = [
        Section::Learn,
        Section::Explore,
        Section::GradientLab,
        Section::Settings,
    ];

    /// Stable id used in `data-testid="nav-<id>"` and `data-section`.
    pub fn id(self) -> &'static str {
        match self {
            Section::Learn => "learn",
            Section::Explore => "explore",
            Section::GradientLab => "gradient-lab",
            Section::Settings => "settings",
        }
    }

    /// Localized name.
    pub fn name(self, lang: Lang) -> &'static str {
        let s = lang.strings();
        match self {
            Section::Learn => s.learn,
            Section::Explore => s.explore,
            Section::GradientLab => s.gradient_lab,
            Section::Settings => s.settings,
        }
    }
}
