//! The page's state as a reducer: what the user sees, and how worker events change it.

use std::rc::Rc;

use yew::prelude::*;

use super::i18n::Lang;
use super::protocol::{Event, JobId, RgbaImage};
use super::section::Section;
use crate::analysis::cam::{layer_name, stage_from_name, CamMethod, CamResult};
use crate::analysis::features::StageMaps;
use crate::analysis::gradients::{GradientFlow, GRADIENT_STEPS};
use crate::backend::auto::AutoPick;
use crate::backend::{BackendChoice, RanOn};
use crate::engine::Exploration;
use crate::weights::WeightsInfo;

/// Where the current Explore run is (`data-state` of `run-status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// Nothing run yet.
    Idle,
    /// A run is going.
    Running,
    /// The last run finished.
    Done,
    /// The last request failed; earlier results stay on the page.
    Error,
}

impl RunState {
    /// The `data-state` value.
    pub fn id(self) -> &'static str {
        match self {
            RunState::Idle => "idle",
            RunState::Running => "running",
            RunState::Done => "done",
            RunState::Error => "error",
        }
    }
}

/// A finished Explore run.
#[derive(Debug, PartialEq)]
pub struct ExploreResult {
    /// What the worker computed (its `maps` moved into [`maps`](Self::maps)).
    pub exploration: Exploration,
    /// Stage 1–5 maps, shared with the panels that draw them.
    pub maps: Vec<Rc<StageMaps>>,
    /// The crop the network saw.
    pub crop: Rc<RgbaImage>,
    /// Forward time in the worker.
    pub elapsed_ms: f64,
    /// What ran it.
    pub ran: RanOn,
    /// Why the GPU was not used although it was asked for.
    pub fallback: Option<String>,
    /// The weights it ran with.
    pub weights: Option<WeightsInfo>,
}

/// What the class activation maps show (also what the share link encodes: `cam`,
/// `cam_stage`, `cam_method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CamSettings {
    /// The maps are wanted: computed after every Explore run.
    pub active: bool,
    /// The class shown large; `None`: the top-1.
    pub class: Option<usize>,
    /// Stage 2–5.
    pub stage: usize,
    /// Grad-CAM or Grad-CAM++.
    pub method: CamMethod,
}

impl CamSettings {
    /// The settings a link asks for (`?cam=281&cam_stage=layer3&cam_method=gradcam++`;
    /// `cam=top` for the top-1), else inactive at Stage 5 by Grad-CAM.
    pub fn from_query() -> Self {
        use crate::web::query::query_param;
        let class = query_param("cam");
        Self {
            active: class.is_some(),
            class: class.and_then(|c| c.parse().ok()).filter(|&c| c < 1000),
            stage: query_param("cam_stage")
                .and_then(|s| stage_from_name(&s).ok())
                .unwrap_or(5),
            method: query_param("cam_method")
                .and_then(|m| m.parse().ok())
                .unwrap_or_default(),
        }
    }

    /// The query string that restores these settings.
    pub fn to_query(&self) -> String {
        let class = self.class.map_or("top".to_string(), |c| c.to_string());
        let method = self.method.id().replace('+', "%2B");
        format!(
            "cam={class}&cam_stage={}&cam_method={method}",
            layer_name(self.stage)
        )
    }
}

/// Finished class activation maps and what they were made for.
#[derive(Debug, PartialEq)]
pub struct CamShown {
    /// The maps.
    pub result: CamResult,
    /// Wall time in the worker.
    pub elapsed_ms: f64,
}

/// Progress of a weights download.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DownloadProgress {
    /// Bytes so far.
    pub loaded: u64,
    /// Expected bytes.
    pub total: Option<u64>,
    /// Average speed.
    pub mb_per_s: f64,
}

/// Weights that a link (`?weights=URL`) asks to download from another origin: shown with its
/// host and stated size, fetched only once the user agrees.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightsOffer {
    /// The absolute URL.
    pub url: String,
    /// Its host, as shown.
    pub host: String,
    /// The size its server states (a HEAD request), when it says.
    pub bytes: Option<u64>,
}

/// Everything the page shows.
#[derive(Clone, Debug, PartialEq)]
pub struct AppState {
    /// Language.
    pub lang: Lang,
    /// Current main view.
    pub section: Section,
    /// Worker version once it answered.
    pub engine_version: Option<String>,
    /// The worker's wasm memory in bytes, as it last said.
    pub engine_memory: Option<u64>,
    /// Weights in use.
    pub weights: Option<WeightsInfo>,
    /// Whether the weights came from Cache Storage.
    pub weights_from_cache: bool,
    /// The weights' preprocessing, as the worker applies it in Explore.
    pub preprocess: crate::image::Preprocess,
    /// A weights load is going.
    pub weights_busy: bool,
    /// Download progress.
    pub download: Option<DownloadProgress>,
    /// A link's weights from another origin, waiting for the user's yes.
    pub weights_offer: Option<WeightsOffer>,
    /// The object URL of a weights file the worker is reading (revoked once it answered).
    pub file_url: Option<String>,
    /// The backend chosen in Settings.
    pub backend: BackendChoice,
    /// What Auto runs on and why (remembered from an earlier visit, or measured now).
    pub auto_pick: Option<AutoPick>,
    /// Latest Explore run id.
    pub job: JobId,
    /// Run state.
    pub run: RunState,
    /// Stages done / total of the current run.
    pub progress: (usize, usize),
    /// The image last given (re-run when weights change).
    pub image: Option<Rc<RgbaImage>>,
    /// The crop of the running job (shown before results arrive).
    pub crop: Option<Rc<RgbaImage>>,
    /// Last finished run.
    pub result: Option<Rc<ExploreResult>>,
    /// Last error message.
    pub error: Option<String>,
    /// Block selected for the residual view (0..16).
    pub selected_block: Option<usize>,
    /// Channels of one block on demand: (block index, maps).
    pub block_maps: Option<(usize, Rc<StageMaps>)>,
    /// Latest gradient run id.
    pub grad_job: JobId,
    /// Gradient run state (`data-state` of `grad-status`).
    pub grad_run: RunState,
    /// Steps done / total of the gradient run.
    pub grad_progress: (usize, usize),
    /// Last finished gradient run and its wall time.
    pub grad_result: Option<Rc<(GradientFlow, f64)>>,
    /// What the class activation maps show.
    pub cam: CamSettings,
    /// Latest CAM run id.
    pub cam_job: JobId,
    /// CAM run state (`data-state` of `cam-status`).
    pub cam_run: RunState,
    /// Steps done / total of the CAM run.
    pub cam_progress: (usize, usize),
    /// The maps of the current image, once computed.
    pub cam_result: Option<Rc<CamShown>>,
}

impl AppState {
    /// Whether the page holds something of the user's that a reload would lose: an image, a
    /// gradient run, a weights file they picked (weights from a `?weights=` link come back from
    /// the cache). The service worker's reloads wait while this is true (www/index.html).
    pub fn has_user_work(&self) -> bool {
        let picked_weights = self.weights.as_ref().is_some_and(|w| w.pretrained)
            && crate::web::query::query_param("weights").is_none();
        self.image.is_some()
            || self.weights_busy
            || self.grad_run != RunState::Idle
            || picked_weights
    }

    /// The starting state.
    pub fn new(lang: Lang) -> Self {
        Self {
            lang,
            section: Section::Explore,
            engine_version: None,
            engine_memory: None,
            weights: None,
            weights_from_cache: false,
            preprocess: crate::image::Preprocess::torchvision(224),
            weights_busy: false,
            download: None,
            weights_offer: None,
            file_url: None,
            backend: BackendChoice::Auto,
            auto_pick: None,
            job: 0,
            run: RunState::Idle,
            progress: (0, 6),
            image: None,
            crop: None,
            result: None,
            error: None,
            selected_block: None,
            block_maps: None,
            grad_job: 0,
            grad_run: RunState::Idle,
            grad_progress: (0, GRADIENT_STEPS),
            grad_result: None,
            cam: CamSettings::from_query(),
            cam_job: 0,
            cam_run: RunState::Idle,
            cam_progress: (0, 6),
            cam_result: None,
        }
    }
}

/// What can happen to the state.
pub enum Action {
    /// Switch language.
    Lang(Lang),
    /// Switch section.
    Section(Section),
    /// A new Explore run was sent to the worker.
    Started {
        /// Its id.
        job: JobId,
        /// Its image.
        image: Rc<RgbaImage>,
    },
    /// A gradient run was sent to the worker.
    GradientsStarted {
        /// Its id.
        job: JobId,
    },
    /// New class-activation-map settings (a click on a prediction, a stage button…).
    Cam(CamSettings),
    /// A CAM run was sent to the worker.
    CamStarted {
        /// Its id.
        job: JobId,
    },
    /// A weights load was sent to the worker.
    WeightsRequested,
    /// A link asks for weights from another origin (or, with `None`, the question is answered).
    WeightsOffer(Option<WeightsOffer>),
    /// The stated size of the offered weights arrived.
    WeightsOfferSize(u64),
    /// The object URL of a weights file handed to the worker (`None`: revoke it).
    FileUrl(Option<String>),
    /// The user picked a backend.
    Backend(BackendChoice),
    /// Forget Auto's choice (the next Auto run measures again).
    ForgetAutoPick,
    /// Something failed on the page itself (e.g. an unreadable image).
    Error(String),
    /// Dismiss the error message.
    ClearError,
    /// Select a block for the residual view.
    SelectBlock(usize),
    /// The worker said something.
    Worker(Event),
}

impl Reducible for AppState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::Lang(lang) => s.lang = lang,
            Action::Section(section) => s.section = section,
            Action::Backend(choice) => s.backend = choice,
            Action::ForgetAutoPick => s.auto_pick = None,
            Action::Started { job, image } => {
                s.job = job;
                s.run = RunState::Running;
                s.progress = (0, 6);
                s.image = Some(image);
                s.block_maps = None;
                // The maps were of the previous image: made again once this run is done.
                s.cam_result = None;
                s.error = None;
            }
            Action::Cam(settings) => s.cam = settings,
            Action::CamStarted { job } => {
                s.cam_job = job;
                s.cam_run = RunState::Running;
                s.cam_progress = (0, 6);
            }
            Action::GradientsStarted { job } => {
                s.grad_job = job;
                s.grad_run = RunState::Running;
                s.grad_progress = (0, GRADIENT_STEPS);
                s.error = None;
            }
            Action::WeightsOffer(offer) => s.weights_offer = offer,
            Action::FileUrl(url) => {
                revoke(&mut s.file_url);
                s.file_url = url;
            }
            Action::WeightsOfferSize(bytes) => {
                if let Some(offer) = s.weights_offer.as_mut() {
                    offer.bytes = Some(bytes);
                }
            }
            Action::WeightsRequested => {
                s.weights_busy = true;
                s.download = None;
                s.error = None;
            }
            Action::Error(message) => {
                s.error = Some(message);
                if s.run == RunState::Running {
                    return Rc::new(s);
                }
                s.run = RunState::Error;
            }
            Action::ClearError => s.error = None,
            Action::SelectBlock(i) => s.selected_block = Some(i),
            Action::Worker(event) => match event {
                Event::Memory { bytes } => s.engine_memory = Some(bytes),
                Event::AutoPicked(pick) => s.auto_pick = Some(pick),
                Event::Ready { version, weights } => {
                    s.engine_version = Some(version);
                    s.weights = Some(weights);
                }
                Event::Crop { job, image } if job == s.job => s.crop = Some(Rc::new(image)),
                Event::Progress { job, progress } if job == s.job => {
                    s.progress = (progress.done, progress.total);
                }
                Event::Explored {
                    job,
                    result,
                    elapsed_ms,
                    ran,
                    fallback,
                } if job == s.job => {
                    s.run = RunState::Done;
                    s.progress = (6, 6);
                    let mut exploration = *result;
                    let maps = exploration.maps.drain(..).map(Rc::new).collect();
                    s.result = Some(Rc::new(ExploreResult {
                        exploration,
                        maps,
                        crop: s.crop.clone().unwrap_or_default(),
                        elapsed_ms,
                        ran,
                        fallback,
                        weights: s.weights.clone(),
                    }));
                }
                Event::Progress { job, progress } if job == s.cam_job => {
                    s.cam_progress = (progress.done, progress.total);
                }
                Event::Cam {
                    run,
                    result,
                    elapsed_ms,
                } if run == s.cam_job => {
                    s.cam_run = RunState::Done;
                    s.cam_progress = (s.cam_progress.1, s.cam_progress.1);
                    s.cam_result = Some(Rc::new(CamShown {
                        result: *result,
                        elapsed_ms,
                    }));
                }
                Event::Cancelled { job } if job == s.cam_job => {
                    s.cam_run = if s.cam_result.is_some() {
                        RunState::Done
                    } else {
                        RunState::Idle
                    };
                }
                Event::Failed { job, message } if job == s.cam_job => {
                    s.cam_run = RunState::Error;
                    s.error = Some(message);
                }
                Event::Progress { job, progress } if job == s.grad_job => {
                    s.grad_progress = (progress.done, progress.total);
                }
                Event::Gradients {
                    job,
                    flow,
                    elapsed_ms,
                } if job == s.grad_job => {
                    s.grad_run = RunState::Done;
                    s.grad_progress = (GRADIENT_STEPS, GRADIENT_STEPS);
                    s.grad_result = Some(Rc::new((*flow, elapsed_ms)));
                }
                Event::Cancelled { job } if job == s.grad_job => {
                    s.grad_run = if s.grad_result.is_some() {
                        RunState::Done
                    } else {
                        RunState::Idle
                    };
                }
                Event::Failed { job, message } if job == s.grad_job => {
                    s.grad_run = RunState::Error;
                    s.error = Some(message);
                }
                Event::BlockMaps { job, block, maps } if job == s.job => {
                    s.block_maps = Some((block, Rc::new(*maps)));
                }
                Event::Cancelled { job } if job == s.job => {
                    s.run = if s.result.is_some() {
                        RunState::Done
                    } else {
                        RunState::Idle
                    };
                }
                Event::Failed { job, message } if job == s.job => {
                    s.run = RunState::Error;
                    s.error = Some(message);
                }
                Event::WeightsProgress {
                    loaded,
                    total,
                    mb_per_s,
                } => {
                    s.download = Some(DownloadProgress {
                        loaded,
                        total,
                        mb_per_s,
                    })
                }
                Event::WeightsLoaded {
                    info,
                    from_cache,
                    preprocess,
                    note,
                } => {
                    revoke(&mut s.file_url);
                    s.weights = Some(info);
                    s.weights_from_cache = from_cache;
                    s.weights_busy = false;
                    s.preprocess = preprocess;
                    if note.is_some() {
                        s.error = note;
                    }
                }
                Event::WeightsFailed { message } => {
                    revoke(&mut s.file_url);
                    s.weights_busy = false;
                    s.error = Some(message);
                }
                _ => return self,
            },
        }
        Rc::new(s)
    }
}

/// Releases a weights file's object URL once the worker has answered about it.
fn revoke(url: &mut Option<String>) {
    if let Some(url) = url.take() {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
}

/// The state handle every component reads and dispatches to.
pub type Store = UseReducerHandle<AppState>;

/// Sends requests to the engine worker.
#[derive(Clone, PartialEq)]
pub struct EngineLink {
    /// Posts one request.
    pub send: Callback<super::protocol::Request>,
}
