//! Every visible string, in Vietnamese and English, kept in one place.

pub use crate::lang::Lang;

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
}

impl Strings {
    /// What ran a pass, in words: "wasm CPU, 2 threads, relaxed SIMD" or "WebGPU, <adapter>".
    pub fn ran_on(&self, ran: &crate::backend::RanOn) -> String {
        match ran {
            crate::backend::RanOn::Cpu {
                threads,
                relaxed_simd,
            } => {
                let threads = match threads {
                    1 => self.ran_one_thread.to_string(),
                    n => format!("{n} {}", self.ran_threads),
                };
                let simd = if *relaxed_simd { ", relaxed SIMD" } else { "" };
                format!("{}, {threads}{simd}", self.ran_cpu)
            }
            crate::backend::RanOn::WebGpu { adapter } => format!("WebGPU, {adapter}"),
        }
    }

    /// A duration for people: "104 ms" below a second, else "7.6 s" ("7,6 s").
    pub fn duration(&self, ms: f64) -> String {
        if ms < 1000.0 {
            format!("{ms:.0} ms")
        } else {
            format!("{:.1} s", ms / 1000.0).replace('.', &self.decimal_point.to_string())
        }
    }

    /// Auto's choice in words, the winner first: "Auto → CPU (wasm CPU, 2 threads): 104 ms vs
    /// WebGPU (intel gen-12lp): 7.6 s", or why WebGPU was not tried or not kept.
    pub fn auto_pick(&self, pick: &crate::backend::auto::AutoPick) -> String {
        use crate::backend::auto::AutoReason;
        use crate::backend::BackendKind;
        let cpu = format!("CPU ({})", self.ran_on(&pick.cpu));
        let gpu = format!("WebGPU ({})", pick.adapter.name());
        let (picked, detail) = match &pick.reason {
            AutoReason::Measured { cpu_ms, gpu_ms } => {
                let cpu = format!("{cpu}: {}", self.duration(*cpu_ms));
                let gpu = format!("{gpu}: {}", self.duration(*gpu_ms));
                match pick.picked {
                    BackendKind::Cpu => (cpu, format!("{} {gpu}", self.auto_versus)),
                    BackendKind::WebGpu => (gpu, format!("{} {cpu}", self.auto_versus)),
                }
            }
            AutoReason::SoftwareAdapter => (
                format!("{cpu}:"),
                format!(
                    "{} {} {}",
                    self.auto_software_pre,
                    pick.adapter.name(),
                    self.auto_software_post
                ),
            ),
            AutoReason::GpuFailed(why) => (
                format!("{cpu}:"),
                format!("{}: {why}", self.auto_gpu_failed),
            ),
        };
        format!("{} → {picked} {detail}", self.auto_label)
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
    /// Before the engine's memory in the footer.
    pub engine_memory: &'static str,
    /// Before the weights' preprocessing recipe.
    pub preprocessing: &'static str,
    /// Where the recipe comes from when the weights brought none.
    pub preprocess_default: &'static str,
    /// Footer: the service worker has cached the whole site.
    pub available_offline: &'static str,
    /// Footer: one thread for now; the service worker can isolate the page after a reload.
    pub one_thread_until_reload: &'static str,
    /// Footer: one thread, and no service worker here to isolate the page.
    pub one_thread_no_service_worker: &'static str,
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
    /// UI string (class activation maps).
    pub cam_title: &'static str,
    /// UI string (class activation maps).
    pub cam_intro: &'static str,
    /// UI string (class activation maps).
    pub cam_show: &'static str,
    /// UI string (class activation maps).
    pub cam_stage: &'static str,
    /// UI string (class activation maps).
    pub cam_method: &'static str,
    /// UI string (class activation maps).
    pub cam_opacity: &'static str,
    /// UI string (class activation maps).
    pub cam_search: &'static str,
    /// UI string (class activation maps).
    pub cam_untrained: &'static str,
    /// UI string (class activation maps).
    pub cam_top5: &'static str,
    /// UI string (class activation maps).
    pub cam_for: &'static str,
    /// UI string (class activation maps).
    pub cam_running: &'static str,
    /// UI string (class activation maps).
    pub cam_link: &'static str,
    /// UI string (class activation maps).
    pub cam_pick_hint: &'static str,
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
    /// Before the host of weights a link asks to download from another site.
    pub weights_offer: &'static str,
    /// UI string.
    pub weights_offer_yes: &'static str,
    /// UI string.
    pub weights_offer_no: &'static str,
    /// UI string.
    pub size_unknown: &'static str,
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
    /// Settings: heading and explanation of the backend choice.
    pub backend_help: &'static str,
    /// Backend option: the faster one, measured.
    pub backend_auto: &'static str,
    /// Settings, Auto's choice: "Auto" before the arrow.
    pub auto_label: &'static str,
    /// Between the two timings ("vs").
    pub auto_versus: &'static str,
    /// Before a software adapter's name.
    pub auto_software_pre: &'static str,
    /// After a software adapter's name.
    pub auto_software_post: &'static str,
    /// WebGPU failed while Auto measured it (followed by the reason).
    pub auto_gpu_failed: &'static str,
    /// Settings: forget Auto's choice and measure on the next run.
    pub auto_measure_again: &'static str,
    /// Decimal separator of durations in seconds.
    pub decimal_point: char,
    /// Backend option: CPU.
    pub backend_cpu: &'static str,
    /// Backend option: WebGPU.
    pub backend_webgpu: &'static str,
    /// Shown when the GPU was asked for but the CPU ran (followed by the reason).
    pub gpu_fallback: &'static str,
    /// What ran a pass: the CPU engine (followed by its threads).
    pub ran_cpu: &'static str,
    /// "1 thread".
    pub ran_one_thread: &'static str,
    /// Follows a thread count above one.
    pub ran_threads: &'static str,
    /// UI string.
    pub preset_classic: &'static str,
    /// UI string.
    pub preset_trained: &'static str,
    /// The "As trained, batch of 8" preset.
    pub preset_trained_batch: &'static str,
    /// The batch-size setting.
    pub batch_size: &'static str,
    /// Shown when float32 runs with batch norm in training mode.
    pub f32_warning: &'static str,
    /// "images" after the batch size in the result line.
    pub images: &'static str,
    /// UI string.
    pub custom_settings: &'static str,
    /// UI string.
    pub init: &'static str,
    /// UI string.
    pub gain: &'static str,
    /// UI string.
    pub bn_mode: &'static str,
    /// UI string.
    pub bn_train: &'static str,
    /// UI string.
    pub bn_eval: &'static str,
    /// UI string.
    pub bn_off: &'static str,
    /// UI string.
    pub input_size: &'static str,
    /// UI string.
    pub target_class: &'static str,
    /// UI string.
    pub target_placeholder: &'static str,
    /// UI string.
    pub seed: &'static str,
    /// UI string.
    pub image_source: &'static str,
    /// UI string.
    pub current_image: &'static str,
    /// UI string.
    pub weights_source: &'static str,
    /// UI string.
    pub fresh_init: &'static str,
    /// UI string.
    pub current_weights: &'static str,
    /// UI string.
    pub precision: &'static str,
    /// UI string.
    pub run_both: &'static str,
    /// UI string.
    pub grad_idle: &'static str,
    /// UI string.
    pub grad_running: &'static str,
    /// UI string.
    pub weight_chart: &'static str,
    /// UI string.
    pub activation_chart: &'static str,
    /// UI string.
    pub relative: &'static str,
    /// UI string.
    pub export_csv: &'static str,
    /// UI string.
    pub export_png: &'static str,
    /// UI string.
    pub share_link: &'static str,
    /// UI string.
    pub elapsed: &'static str,
    /// UI string.
    pub loss: &'static str,
    /// UI string.
    pub with_skips: &'static str,
    /// UI string.
    pub without_skips: &'static str,
    /// UI string.
    pub learn_concept_title: &'static str,
    /// UI string.
    pub learn_concept: &'static str,
    /// UI string.
    pub learn_vanishing_title: &'static str,
    /// UI string.
    pub learn_vanishing: &'static str,
    /// UI string.
    pub depth: &'static str,
    /// UI string.
    pub learn_vanishing_caveat: &'static str,
    /// UI string.
    pub learn_block_title: &'static str,
    /// UI string.
    pub learn_block: &'static str,
    /// UI string.
    pub learn_blocks_title: &'static str,
    /// UI string.
    pub learn_blocks: &'static str,
    /// UI string.
    pub learn_table_title: &'static str,
    /// UI string.
    pub learn_table: &'static str,
    /// UI string.
    pub learn_head_caveat: &'static str,
    /// UI string.
    pub open_in_explore: &'static str,
    /// UI string.
    pub stage_word: &'static str,
    /// UI string.
    pub kind_zero_padding: &'static str,
    /// UI string.
    pub kind_stem: &'static str,
    /// UI string.
    pub kind_avg_pool: &'static str,
    /// UI string.
    pub kind_flatten: &'static str,
    /// UI string.
    pub kind_fc: &'static str,
    /// UI string.
    pub in_out: &'static str,
    /// UI string.
    pub head: &'static str,
    /// UI string.
    pub block_channels: &'static str,
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
    engine_memory: "bộ nhớ",
    available_offline: "dùng được khi ngoại tuyến",
    preprocessing: "Tiền xử lý",
    preprocess_default: "mặc định của torchvision (trọng số không kèm cấu hình)",
    one_thread_until_reload: "1 luồng: máy chủ không gửi header cách ly (COOP/COEP); service worker của trang sẽ thêm chúng sau một lần tải lại.",
    one_thread_no_service_worker: "1 luồng: máy chủ không gửi header cách ly (COOP/COEP), và ở đây không có service worker để thêm chúng (trang http:// hoặc trình duyệt chặn dữ liệu trang).",
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
    cam_title: "Mạng nhìn vào đâu? (Grad-CAM)",
    cam_intro: "Bản đồ kích hoạt lớp: gradient của điểm số một lớp theo đầu ra của một tầng, gộp theo từng kênh, cho thấy vùng ảnh nào quyết định lớp đó.",
    cam_show: "Hiện bản đồ Grad-CAM",
    cam_stage: "Tầng",
    cam_method: "Phương pháp",
    cam_opacity: "Độ đậm",
    cam_search: "Tìm lớp theo tên hoặc số (0–999)",
    cam_untrained: "Trọng số chưa huấn luyện: bản đồ này chưa có ý nghĩa gì. Tải trọng số ImageNet trong Cài đặt để xem mạng thật sự nhìn vào đâu.",
    cam_top5: "Top-5, mỗi lớp một bản đồ (bấm để chọn)",
    cam_for: "Lớp",
    cam_running: "Đang tính bản đồ",
    cam_link: "Liên kết tới lớp và tầng này",
    cam_pick_hint: "Bấm một dự đoán hoặc tìm một lớp bất kỳ.",
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
    weights_offer: "Liên kết này muốn tải trọng số từ một trang khác:",
    weights_offer_yes: "Tải về",
    weights_offer_no: "Để sau",
    size_unknown: "chưa rõ dung lượng",
    weights_file_label: "Hoặc chọn tệp trọng số (.safetensors)",
    use_untrained: "Dùng trọng số ngẫu nhiên (He, seed 0)",
    from_cache: "từ bộ nhớ đệm",
    downloading: "Đang tải",
    naming: "cách đặt tên",
    dismiss: "Đóng",
    not_an_image: "Không đọc được ảnh này",
    backend: "Phần cứng",
    backend_help: "Chạy mạng trên CPU (WebAssembly) hay trên GPU (WebGPU). Kết quả như nhau; chỉ tốc độ khác.",
    backend_auto: "Tự động (CPU hay GPU phần cứng, cái nào nhanh hơn; đo một lần)",
    auto_label: "Tự động",
    auto_versus: "so với",
    auto_software_pre: "bộ điều hợp WebGPU",
    auto_software_post: "chạy bằng phần mềm, chậm hơn CPU. Chọn WebGPU nếu vẫn muốn dùng nó.",
    auto_gpu_failed: "WebGPU gặp lỗi khi đo",
    auto_measure_again: "Đo lại",
    decimal_point: ',',
    backend_cpu: "CPU (WebAssembly)",
    backend_webgpu: "WebGPU",
    gpu_fallback: "Không dùng được GPU, lần chạy này dùng CPU",
    ran_cpu: "CPU wasm",
    ran_one_thread: "1 luồng",
    ran_threads: "luồng",
    preset_classic: "Triệt tiêu kinh điển: không batch norm, khởi tạo Xavier",
    preset_trained: "Như khi huấn luyện: batch norm chế độ train, khởi tạo He",
    preset_trained_batch: "Như khi huấn luyện, batch 8 ảnh, 224×224",
    batch_size: "Số ảnh mỗi batch (ảnh đang chọn, rồi các ảnh mẫu và ảnh lật của chúng)",
    f32_warning: "float32 với batch norm chế độ train: mạng không có kết nối tắt khuếch đại sai số làm tròn. So với PyTorch float64, các con số lệch tới 46 % ở 64×64 với một ảnh, 1–2 % ở 224×224. float64 chính xác tới 1e-9 nhưng cần gấp đôi bộ nhớ.",
    images: "ảnh",
    custom_settings: "Tuỳ chỉnh",
    init: "Khởi tạo",
    gain: "Hệ số (gain)",
    bn_mode: "Batch norm",
    bn_train: "train (thống kê của lô)",
    bn_eval: "eval (thống kê tích luỹ)",
    bn_off: "tắt",
    input_size: "Kích thước đầu vào",
    target_class: "Lớp mục tiêu",
    target_placeholder: "mặc định: top-1 của mạng phần dư",
    seed: "Seed",
    image_source: "Ảnh",
    current_image: "ảnh hiện tại",
    weights_source: "Trọng số",
    fresh_init: "khởi tạo mới theo thiết lập",
    current_weights: "trọng số đang dùng",
    precision: "Độ chính xác",
    run_both: "Chạy cả hai mạng",
    grad_idle: "Chọn thiết lập sẵn hoặc tuỳ chỉnh rồi bấm chạy.",
    grad_running: "Đang tính",
    weight_chart: "‖∂L/∂W‖ theo từng lớp, từ conv1 đến fc",
    activation_chart: "‖∂L/∂x‖ ở đầu ra stem và mỗi khối",
    relative: "Chuẩn tương đối ‖∂L/∂W‖ / ‖W‖",
    export_csv: "Tải CSV",
    export_png: "Tải PNG",
    share_link: "Liên kết tới thiết lập này",
    elapsed: "Thời gian",
    loss: "Hàm mất mát",
    with_skips: "có kết nối tắt",
    without_skips: "không có kết nối tắt",
    learn_concept_title: "1. ResNet là gì?",
    learn_concept: "ResNet (Residual Network, He và cộng sự, 2015) thắng cuộc thi ILSVRC 2015 với sai số top-5 chỉ 3,57 %. Ý tưởng: thay vì bắt mỗi khối học trực tiếp ánh xạ H(x), ta cho nó học phần dư F(x) = H(x) − x và cộng lại đầu vào qua một kết nối tắt: đầu ra là x + F(x). Nhờ vậy có thể huấn luyện mạng sâu hàng chục, hàng trăm lớp.",
    learn_vanishing_title: "2. Triệt tiêu gradient",
    learn_vanishing: "Khi lan truyền ngược, gradient ở mỗi lớp là tích của các đạo hàm của mọi lớp phía sau. Trong mạng thường (không có kết nối tắt), mỗi lớp nhân gradient với một hệ số; nếu hệ số đó nhỏ hơn 1, gradient co lại theo cấp số nhân và các lớp đầu gần như không học được. Với kết nối tắt, đạo hàm của x + F(x) theo x là 1 + F′(x): luôn có một đường đi thẳng cho gradient. Kéo thanh trượt để đổi độ sâu của một chồng lớp kết nối đầy đủ (khởi tạo Xavier, ReLU; nhánh phần dư nhân 1/√độ sâu).",
    depth: "Độ sâu",
    learn_vanishing_caveat: "Lưu ý: bài hướng dẫn nói mạng thường sâu bị triệt tiêu gradient. Điều đó đúng khi không có batch norm; với batch norm, gradient của mạng thường không triệt tiêu lúc khởi tạo (He và cộng sự, 2015) mà lại tăng mạnh về phía đầu vào. Hãy thử cả hai thiết lập sẵn trong Phòng thí nghiệm gradient.",
    learn_block_title: "3. Khối phần dư: x → F(x) → x + F(x)",
    learn_block: "Đây là khối thật của ResNet-50 trên ảnh hiện tại của bạn (chạy một ảnh ở mục Khám phá trước): bên trái là x (hoặc phép chiếu của nó), giữa là F(x), bên phải là ReLU(x + F(x)).",
    learn_blocks_title: "4. Khối đồng nhất và khối tích chập",
    learn_blocks: "Khối đồng nhất giữ nguyên kích thước nên cộng thẳng x. Khối tích chập (khối đầu mỗi tầng) đổi số kênh và/hoặc giảm kích thước không gian, nên nhánh tắt cần một tích chập 1×1 (bước 2 từ tầng 3) kèm batch norm để x có cùng hình dạng với F(x).",
    learn_table_title: "5. Bảng các tầng của ResNet-50",
    learn_table: "Bấm một hàng để xem bản đồ đặc trưng của tầng đó trong mục Khám phá.",
    learn_head_caveat: "Lưu ý: đầu ra AvgPool 2×2 + Flatten trong bài hướng dẫn thuộc cấu hình 64×64 của nó (tầng 5 còn 2×2); mạng chuẩn 224×224 dùng average pooling toàn cục (7×7 → 1×1) rồi mới đến lớp kết nối đầy đủ.",
    open_in_explore: "Mở trong Khám phá",
    stage_word: "Tầng",
    kind_zero_padding: "đệm số 0 (zero padding)",
    kind_stem: "tích chập 7×7/2 + BN + ReLU + max-pool 3×3/2",
    kind_avg_pool: "average pooling (gộp trung bình)",
    kind_flatten: "làm phẳng (flatten)",
    kind_fc: "kết nối đầy đủ + softmax",
    in_out: "vào → ra",
    head: "Đầu ra",
    block_channels: "Xem các kênh của khối này",
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
    engine_memory: "memory",
    available_offline: "available offline",
    preprocessing: "Preprocessing",
    preprocess_default: "torchvision's default (the weights came without a config)",
    one_thread_until_reload: "1 thread: this host sends no isolation headers (COOP/COEP); the page's service worker adds them after one reload.",
    one_thread_no_service_worker: "1 thread: this host sends no isolation headers (COOP/COEP), and no service worker can add them here (an http:// page, or site data blocked).",
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
    cam_title: "Where does it look? (Grad-CAM)",
    cam_intro: "Class activation maps: the gradient of one class's score with respect to a stage's output, pooled per channel, shows which part of the image drove that class.",
    cam_show: "Show Grad-CAM maps",
    cam_stage: "Stage",
    cam_method: "Method",
    cam_opacity: "Opacity",
    cam_search: "Find a class by name or number (0–999)",
    cam_untrained: "Untrained weights: this map means nothing yet. Load ImageNet weights in Settings to see where a trained network looks.",
    cam_top5: "Top-5, one map per class (click to pick)",
    cam_for: "Class",
    cam_running: "Computing the maps",
    cam_link: "Link to this class and stage",
    cam_pick_hint: "Click a prediction, or find any class.",
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
    weights_offer: "This link asks to download weights from another site:",
    weights_offer_yes: "Download",
    weights_offer_no: "Not now",
    size_unknown: "size unknown",
    weights_file_label: "Or pick a weights file (.safetensors)",
    use_untrained: "Use random weights (He, seed 0)",
    from_cache: "from cache",
    downloading: "Downloading",
    naming: "naming",
    dismiss: "Dismiss",
    not_an_image: "This image cannot be read",
    backend: "Backend",
    backend_help: "Run the network on the CPU (WebAssembly) or on the GPU (WebGPU). The results are the same; only the speed differs.",
    backend_auto: "Auto (the faster of the CPU and a hardware GPU, measured once)",
    auto_label: "Auto",
    auto_versus: "vs",
    auto_software_pre: "the WebGPU adapter",
    auto_software_post: "renders in software, slower than the CPU. Choose WebGPU to use it anyway.",
    auto_gpu_failed: "WebGPU failed while being measured",
    auto_measure_again: "Measure again",
    decimal_point: '.',
    backend_cpu: "CPU (WebAssembly)",
    backend_webgpu: "WebGPU",
    gpu_fallback: "The GPU could not be used, so this run used the CPU",
    ran_cpu: "wasm CPU",
    ran_one_thread: "1 thread",
    ran_threads: "threads",
    preset_classic: "Classic vanishing: no batch norm, Xavier init",
    preset_trained: "As trained: batch norm in training mode, He init",
    preset_trained_batch: "As trained, batch of 8, 224×224",
    batch_size: "Images per batch (the chosen image, then the samples and their mirror images)",
    f32_warning: "float32 with batch norm in training mode: without shortcuts the backward amplifies rounding. Against PyTorch float64 the figures were off by up to 46 % at 64×64 on one image, 1–2 % at 224×224. float64 is exact to 1e-9 but needs twice the memory.",
    images: "images",
    custom_settings: "Custom settings",
    init: "Initialization",
    gain: "Gain",
    bn_mode: "Batch norm",
    bn_train: "train (batch statistics)",
    bn_eval: "eval (running statistics)",
    bn_off: "off",
    input_size: "Input size",
    target_class: "Target class",
    target_placeholder: "default: the residual network's top-1",
    seed: "Seed",
    image_source: "Image",
    current_image: "current image",
    weights_source: "Weights",
    fresh_init: "fresh init with these settings",
    current_weights: "the weights in use",
    precision: "Precision",
    run_both: "Run both networks",
    grad_idle: "Pick a preset or custom settings, then run.",
    grad_running: "Computing",
    weight_chart: "‖∂L/∂W‖ per layer, from conv1 to fc",
    activation_chart: "‖∂L/∂x‖ at the stem and every block output",
    relative: "Relative norms ‖∂L/∂W‖ / ‖W‖",
    export_csv: "Download CSV",
    export_png: "Download PNG",
    share_link: "Link to these settings",
    elapsed: "Time",
    loss: "Loss",
    with_skips: "with skips",
    without_skips: "without skips",
    learn_concept_title: "1. What is ResNet?",
    learn_concept: "ResNet (Residual Network, He et al., 2015) won ILSVRC 2015 with a 3.57 % top-5 error. The idea: instead of asking each block to learn a mapping H(x) directly, let it learn the residual F(x) = H(x) − x and add the input back through a skip connection: the output is x + F(x). That made networks of tens and hundreds of layers trainable.",
    learn_vanishing_title: "2. Vanishing gradients",
    learn_vanishing: "During backpropagation, each layer's gradient is a product of the derivatives of every layer after it. In a plain network (no skip connections) each layer multiplies the gradient by some factor; if that factor is below 1, the gradient shrinks exponentially and the early layers barely learn. With a skip connection the derivative of x + F(x) with respect to x is 1 + F′(x): there is always a straight path for the gradient. Drag the slider to change the depth of a stack of fully connected layers (Xavier init, ReLU; residual branches scaled by 1/√depth).",
    depth: "Depth",
    learn_vanishing_caveat: "Note: the tutorial says deep plain networks suffer vanishing gradients. That holds without batch norm; with batch norm the plain network's gradients do not vanish at initialization (He et al., 2015) — they grow strongly towards the input instead. Try both presets in the Gradient lab.",
    learn_block_title: "3. The residual block: x → F(x) → x + F(x)",
    learn_block: "This is a real ResNet-50 block on your current image (run an image in Explore first): left is x (or its projection), middle F(x), right ReLU(x + F(x)).",
    learn_blocks_title: "4. Identity block and convolutional block",
    learn_blocks: "An identity block keeps the shape, so x is added as is. A convolutional block (the first of each stage) changes the channel count and/or halves the spatial size, so its shortcut needs a 1×1 convolution (stride 2 from Stage 3 on) with batch norm to give x the shape of F(x).",
    learn_table_title: "5. The ResNet-50 stage table",
    learn_table: "Click a row to see that stage's feature maps in Explore.",
    learn_head_caveat: "Note: the tutorial's AvgPool 2×2 + Flatten head belongs to its 64×64 configuration (Stage 5 is 2×2 there); the standard 224×224 network uses global average pooling (7×7 → 1×1) before the fully connected layer.",
    open_in_explore: "Open in Explore",
    stage_word: "Stage",
    kind_zero_padding: "zero padding",
    kind_stem: "conv 7×7/2 + BN + ReLU + max-pool 3×3/2",
    kind_avg_pool: "average pooling",
    kind_flatten: "flatten",
    kind_fc: "fully connected + softmax",
    in_out: "in → out",
    head: "Head",
    block_channels: "Show this block's channels",
};
