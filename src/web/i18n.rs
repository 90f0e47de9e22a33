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
    /// UI string.
    pub drop_hint: &'static str,
    /// UI string.
    pub choose_file: &'static str,
    /// UI string.
    pub samples: &'static str,
    /// UI string.
    pub crop_caption: &'static str,
    /// UI string.
    pub status_idle: &'static str,
    /// UI string.
    pub status_running: &'static str,
    /// UI string.
    pub status_done: &'static str,
    /// UI string.
    pub status_error: &'static str,
    /// UI string.
    pub cancel: &'static str,
    /// UI string.
    pub predictions: &'static str,
    /// UI string.
    pub untrained_warning: &'static str,
    /// UI string.
    pub forward_time: &'static str,
    /// UI string.
    pub architecture: &'static str,
    /// UI string.
    pub identity_block: &'static str,
    /// UI string.
    pub conv_block: &'static str,
    /// UI string.
    pub params: &'static str,
    /// UI string.
    pub macs: &'static str,
    /// UI string.
    pub feature_maps: &'static str,
    /// UI string.
    pub channels: &'static str,
    /// UI string.
    pub sort_activation: &'static str,
    /// UI string.
    pub sort_index: &'static str,
    /// UI string.
    pub norm_channel: &'static str,
    /// UI string.
    pub norm_stage: &'static str,
    /// UI string.
    pub colormap: &'static str,
    /// UI string.
    pub overlay: &'static str,
    /// UI string.
    pub page: &'static str,
    /// UI string.
    pub value_under_cursor: &'static str,
    /// UI string.
    pub residual_view: &'static str,
    /// UI string.
    pub pick_block: &'static str,
    /// UI string.
    pub weights: &'static str,
    /// UI string.
    pub weights_untrained: &'static str,
    /// UI string.
    pub weights_pretrained: &'static str,
    /// UI string.
    pub load_pretrained: &'static str,
    /// UI string.
    pub weights_url_label: &'static str,
    /// UI string.
    pub weights_file_label: &'static str,
    /// UI string.
    pub use_untrained: &'static str,
    /// UI string.
    pub from_cache: &'static str,
    /// UI string.
    pub downloading: &'static str,
    /// UI string.
    pub naming: &'static str,
    /// UI string.
    pub dismiss: &'static str,
    /// UI string.
    pub not_an_image: &'static str,
    /// UI string.
    pub backend: &'static str,
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
    drop_hint: "Kéo thả ảnh vào trang, dán từ bộ nhớ tạm, hoặc",
    choose_file: "chọn tệp",
    samples: "Ảnh mẫu",
    crop_caption: "Ảnh 224×224 mà mạng nhìn thấy",
    status_idle: "Chọn một ảnh để chạy mạng.",
    status_running: "Đang chạy",
    status_done: "Xong",
    status_error: "Lỗi",
    cancel: "Huỷ",
    predictions: "Dự đoán (top-5)",
    untrained_warning: "Trọng số chưa huấn luyện (khởi tạo ngẫu nhiên): dự đoán không có ý nghĩa. Tải trọng số ImageNet trong Cài đặt.",
    forward_time: "Lượt truyền xuôi",
    architecture: "Kiến trúc ResNet-50",
    identity_block: "khối đồng nhất",
    conv_block: "khối tích chập",
    params: "tham số",
    macs: "phép nhân-cộng",
    feature_maps: "Bản đồ đặc trưng",
    channels: "kênh",
    sort_activation: "Sắp theo kích hoạt trung bình",
    sort_index: "Sắp theo chỉ số",
    norm_channel: "Chuẩn hoá theo kênh",
    norm_stage: "Chuẩn hoá theo tầng",
    colormap: "Bảng màu",
    overlay: "Phủ kích hoạt trung bình lên ảnh",
    page: "Trang",
    value_under_cursor: "Giá trị tại con trỏ",
    residual_view: "Khối phần dư: x, F(x) và x + F(x)",
    pick_block: "Chọn một khối trong sơ đồ để xem phép cộng phần dư.",
    weights: "Trọng số",
    weights_untrained: "chưa huấn luyện",
    weights_pretrained: "đã huấn luyện",
    load_pretrained: "Tải trọng số ImageNet đã huấn luyện",
    weights_url_label: "URL của tệp safetensors",
    weights_file_label: "Hoặc chọn tệp trọng số (.safetensors)",
    use_untrained: "Dùng trọng số ngẫu nhiên (He, seed 0)",
    from_cache: "từ bộ nhớ đệm",
    downloading: "Đang tải",
    naming: "cách đặt tên",
    dismiss: "Đóng",
    not_an_image: "Không đọc được ảnh này",
    backend: "Phần cứng",
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
    drop_hint: "Drop an image on the page, paste it, or",
    choose_file: "choose a file",
    samples: "Samples",
    crop_caption: "The 224×224 crop the network sees",
    status_idle: "Pick an image to run the network.",
    status_running: "Running",
    status_done: "Done",
    status_error: "Error",
    cancel: "Cancel",
    predictions: "Predictions (top 5)",
    untrained_warning: "Untrained weights (random init): these predictions mean nothing. Load ImageNet weights in Settings.",
    forward_time: "Forward pass",
    architecture: "ResNet-50 architecture",
    identity_block: "identity block",
    conv_block: "convolutional block",
    params: "params",
    macs: "multiply-adds",
    feature_maps: "Feature maps",
    channels: "channels",
    sort_activation: "Sort by mean activation",
    sort_index: "Sort by index",
    norm_channel: "Normalize per channel",
    norm_stage: "Normalize per stage",
    colormap: "Colormap",
    overlay: "Overlay mean activation on the image",
    page: "Page",
    value_under_cursor: "Value under the cursor",
    residual_view: "Residual block: x, F(x) and x + F(x)",
    pick_block: "Pick a block in the diagram to see its residual addition.",
    weights: "Weights",
    weights_untrained: "untrained",
    weights_pretrained: "pretrained",
    load_pretrained: "Load pretrained ImageNet weights",
    weights_url_label: "Safetensors URL",
    weights_file_label: "Or pick a weights file (.safetensors)",
    use_untrained: "Use random weights (He, seed 0)",
    from_cache: "from cache",
    downloading: "Downloading",
    naming: "naming",
    dismiss: "Dismiss",
    not_an_image: "This image cannot be read",
    backend: "Backend",
};
