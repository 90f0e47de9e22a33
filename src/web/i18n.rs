//! Every visible string, in Vietnamese and English, kept in one place.

/// The page's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// Tiếng Việt.
    Vi,
    /// English.
    En,
}

impl Lang {
    /// Vietnamese when the browser's language is Vietnamese, English otherwise.
    pub fn from_browser() -> Self {
        let language = web_sys::window()
            .and_then(|w| w.navigator().language())
            .unwrap_or_default();
        if language.to_lowercase().starts_with("vi") {
            Lang::Vi
        } else {
            Lang::En
        }
    }

    /// The strings of this language.
    pub fn strings(self) -> &'static Strings {
        match self {
            Lang::Vi => &VI,
            Lang::En => &EN,
        }
    }

    /// BCP 47 code for `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }
}

/// The page's strings in one language.
#[derive(Debug, PartialEq, Eq)]
pub struct Strings {
    /// Page title.
    pub title: &'static str,
    /// One-line subtitle under the title.
    pub tagline: &'static str,
    /// Section names.
    pub learn: &'static str,
    pub explore: &'static str,
    pub gradient_lab: &'static str,
    pub settings: &'static str,
    /// One-paragraph intros of each section.
    pub learn_intro: &'static str,
    pub explore_intro: &'static str,
    pub gradient_lab_intro: &'static str,
    pub settings_intro: &'static str,
    /// Language switch label.
    pub language: &'static str,
    /// Footer: the privacy promise.
    pub footer_local: &'static str,
    /// Footer: the worker has not answered yet.
    pub engine_starting: &'static str,
    /// Footer: the worker answered (followed by the version).
    pub engine_ready: &'static str,
}

/// Tiếng Việt.
pub static VI: Strings = Strings {
    title: "ResNet Lab",
    tagline: "Chạy ResNet-50 ngay trong trình duyệt và xem vì sao mạng phần dư hoạt động",
    learn: "Tìm hiểu",
    explore: "Khám phá",
    gradient_lab: "Phòng thí nghiệm gradient",
    settings: "Cài đặt",
    learn_intro: "Khái niệm ResNet, hiện tượng triệt tiêu gradient, khối phần dư, khối đồng nhất và khối tích chập, và bảng các tầng của ResNet-50.",
    explore_intro: "Tải ảnh lên, xem dự đoán và bản đồ đặc trưng của từng tầng.",
    gradient_lab_intro: "So sánh chuẩn gradient theo từng lớp khi có và không có kết nối tắt.",
    settings_intro: "Trọng số, phần cứng tính toán và ngôn ngữ.",
    language: "Ngôn ngữ",
    footer_local: "Mọi tính toán chạy cục bộ trong trình duyệt của bạn: không ảnh nào rời khỏi máy.",
    engine_starting: "đang khởi động bộ máy…",
    engine_ready: "bộ máy sẵn sàng",
};

/// English.
pub static EN: Strings = Strings {
    title: "ResNet Lab",
    tagline: "Run ResNet-50 in your browser and see why residual networks work",
    learn: "Learn",
    explore: "Explore",
    gradient_lab: "Gradient lab",
    settings: "Settings",
    learn_intro: "The ResNet idea, vanishing gradients, the residual block, identity and convolutional blocks, and the ResNet-50 stage table.",
    explore_intro: "Upload an image, see the predictions and every stage's feature maps.",
    gradient_lab_intro: "Compare per-layer gradient norms with and without skip connections.",
    settings_intro: "Weights, compute backend and language.",
    language: "Language",
    footer_local: "Everything runs locally in your browser: no image ever leaves your machine.",
    engine_starting: "engine starting…",
    engine_ready: "engine ready",
};
