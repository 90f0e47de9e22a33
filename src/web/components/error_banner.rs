//! The error message area: says what went wrong; nothing else on the page is thrown away.

use yew::prelude::*;

use crate::web::state::{Action, Store};

/// Shows the last error with a dismiss button.
#[function_component(ErrorBanner)]
pub fn error_banner() -> Html {
    let Some(store) = use_context::<Store>() else {
        return html! {};
    };
    let Some(message) = store.error.clone() else {
        return html! {};
    };
    let dismiss = {
        let store = store.clone();
        Callback::from(move |_| store.dispatch(Action::ClearError))
    };
    html! {
        <div class="error" role="alert" data-testid="error">
            <span>{ message }</span>
            <button onclick={dismiss}>{ store.lang.strings().dismiss }</button>
        </div>
    }
}
