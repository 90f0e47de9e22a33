//! The worker protocol and the page's reducer, in the browser (a 64×64 input keeps it fast).
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use candle_core::{Device, Tensor};
use resnet_lab::engine::{Engine, PredictOptions};
use resnet_lab::web::i18n::Lang;
use resnet_lab::web::protocol::{Event, RgbaImage};
use resnet_lab::web::state::{Action, AppState, RunState};
use resnet_lab::weights::{Init, InitKind};
use wasm_bindgen_test::*;
use yew::Reducible;

use resnet_lab::backend::RanOn;

wasm_bindgen_test_configure!(run_in_browser);

fn explored(job: u32) -> Event {
    let engine = Engine::with_init(Init::new(InitKind::He, 0)).unwrap();
    let input = Tensor::zeros((1, 3, 64, 64), candle_core::DType::F32, &Device::Cpu).unwrap();
    let result = engine
        .start_explore(&input, &PredictOptions::default())
        .unwrap()
        .finish()
        .unwrap();
    Event::Explored {
        job,
        result: Box::new(result),
        elapsed_ms: 1.0,
        ran: RanOn::Cpu {
            threads: 1,
            relaxed_simd: false,
        },
        fallback: None,
    }
}

fn started(state: Rc<AppState>, job: u32) -> Rc<AppState> {
    let image = Rc::new(RgbaImage {
        width: 1,
        height: 1,
        rgba: vec![0, 0, 0, 255],
    });
    state.reduce(Action::Started { job, image })
}

#[wasm_bindgen_test]
fn events_survive_the_worker_codec() {
    use gloo::worker::{Bincode, Codec};
    // The codec the reactor bridge uses for every message.
    let event = explored(3);
    let back: Event = Bincode::decode(Bincode::encode(&event));
    assert_eq!(back, event);
}

#[wasm_bindgen_test]
fn results_of_a_stale_job_are_dropped() {
    let state = started(Rc::new(AppState::new(Lang::En)), 2);
    let state = state.reduce(Action::Worker(explored(1)));
    assert_eq!(state.run, RunState::Running);
    assert!(state.result.is_none());
    let state = state.reduce(Action::Worker(explored(2)));
    assert_eq!(state.run, RunState::Done);
    assert_eq!(state.result.as_ref().unwrap().maps.len(), 5);
}

#[wasm_bindgen_test]
fn a_failure_keeps_the_previous_results() {
    let state = started(Rc::new(AppState::new(Lang::En)), 1);
    let state = state.reduce(Action::Worker(explored(1)));
    let state = started(state, 2);
    let state = state.reduce(Action::Worker(Event::Failed {
        job: 2,
        message: "image error: no pixels".into(),
    }));
    assert_eq!(state.run, RunState::Error);
    assert_eq!(state.error.as_deref(), Some("image error: no pixels"));
    assert!(state.result.is_some());
    let state = state.reduce(Action::Worker(Event::WeightsFailed {
        message: "truncated".into(),
    }));
    assert!(state.result.is_some() && !state.weights_busy);
}

#[wasm_bindgen_test]
fn what_ran_is_said_in_both_languages() {
    let cpu = RanOn::Cpu {
        threads: 2,
        relaxed_simd: true,
    };
    assert_eq!(
        Lang::En.strings().ran_on(&cpu),
        "wasm CPU, 2 threads, relaxed SIMD"
    );
    assert_eq!(
        Lang::Vi.strings().ran_on(&cpu),
        "CPU wasm, 2 luồng, relaxed SIMD"
    );
    let single = RanOn::Cpu {
        threads: 1,
        relaxed_simd: false,
    };
    assert_eq!(Lang::En.strings().ran_on(&single), "wasm CPU, 1 thread");
    assert_eq!(Lang::Vi.strings().ran_on(&single), "CPU wasm, 1 luồng");
    let gpu = RanOn::WebGpu {
        adapter: "SwiftShader".into(),
    };
    assert_eq!(Lang::Vi.strings().ran_on(&gpu), "WebGPU, SwiftShader");
    assert_eq!(gpu.kind().id(), "webgpu");
}

#[wasm_bindgen_test]
fn autos_choice_is_said_winner_first_survives_the_codec_and_is_kept_by_the_page() {
    use gloo::worker::{Bincode, Codec};
    use resnet_lab::backend::auto::{AdapterFacts, AutoPick};
    let cpu = RanOn::Cpu {
        threads: 2,
        relaxed_simd: true,
    };
    let adapter = AdapterFacts {
        vendor: "intel".into(),
        architecture: "gen-12lp".into(),
        ..Default::default()
    };
    let slow_gpu = AutoPick::measured(adapter.clone(), cpu.clone(), 104.2, 7600.0);
    assert_eq!(
        Lang::En.strings().auto_pick(&slow_gpu),
        "Auto → CPU (wasm CPU, 2 threads, relaxed SIMD): 104 ms vs WebGPU (intel gen-12lp): 7.6 s"
    );
    assert_eq!(
        Lang::Vi.strings().auto_pick(&slow_gpu),
        "Tự động → CPU (CPU wasm, 2 luồng, relaxed SIMD): 104 ms so với WebGPU (intel gen-12lp): 7,6 s"
    );
    let fast_gpu = AutoPick::measured(adapter, cpu.clone(), 104.0, 38.4);
    assert_eq!(
        Lang::En.strings().auto_pick(&fast_gpu),
        "Auto → WebGPU (intel gen-12lp): 38 ms vs CPU (wasm CPU, 2 threads, relaxed SIMD): 104 ms"
    );
    let swiftshader = AdapterFacts {
        vendor: "google".into(),
        architecture: "swiftshader".into(),
        is_fallback: true,
        ..Default::default()
    };
    let software = AutoPick::software(swiftshader, cpu);
    assert_eq!(
        Lang::En.strings().auto_pick(&software),
        "Auto → CPU (wasm CPU, 2 threads, relaxed SIMD): the WebGPU adapter google swiftshader \
         renders in software, slower than the CPU. Choose WebGPU to use it anyway."
    );
    let event = Event::AutoPicked(fast_gpu.clone());
    let back: Event = Bincode::decode(Bincode::encode(&event));
    assert_eq!(back, event);
    let state = Rc::new(AppState::new(Lang::En)).reduce(Action::Worker(event));
    assert_eq!(state.auto_pick.as_ref(), Some(&fast_gpu));
    let state = state.reduce(Action::ForgetAutoPick);
    assert!(state.auto_pick.is_none());
}
