//! The question a `?weights=URL` link to another site raises: where from, how large, and two
//! buttons. Nothing is fetched before "Download".

use yew::prelude::*;

use crate::web::protocol::Request;
use crate::web::state::{Action, EngineLink, Store};

/// The banner, shown while a link's weights from another origin wait for an answer.
#[function_component(WeightsOfferBanner)]
pub fn weights_offer_banner() -> Html {
    let (Some(store), Some(link)) = (use_context::<Store>(), use_context::<EngineLink>()) else {
        return html! {};
    };
    let Some(offer) = store.weights_offer.clone() else {
        return html! {};
    };
    let s = store.lang.strings();
    let size = match offer.bytes {
        Some(b) => format!("{:.1} MB", b as f64 / 1e6),
        None => s.size_unknown.to_string(),
    };
    let on_yes = {
        let (store, url) = (store.clone(), offer.url.clone());
        Callback::from(move |_| {
            store.dispatch(Action::WeightsOffer(None));
            store.dispatch(Action::WeightsRequested);
            link.send.emit(Request::LoadWeightsUrl { url: url.clone() });
        })
    };
    let on_no = {
        let store = store.clone();
        Callback::from(move |_| store.dispatch(Action::WeightsOffer(None)))
    };
    html! {
        <div class="weights-offer" data-testid="weights-offer" data-host={offer.host.clone()}>
            <p>
                { s.weights_offer }{ " " }
                <strong>{ offer.host.clone() }</strong>
                { format!(" ({size})") }
                <br /><code>{ offer.url.clone() }</code>
            </p>
            <button class="primary" data-testid="weights-offer-yes" onclick={on_yes}>{ s.weights_offer_yes }</button>
            <button data-testid="weights-offer-no" onclick={on_no}>{ s.weights_offer_no }</button>
        </div>
    }
}
