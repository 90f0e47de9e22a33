//! The page frame: header, the current section's view, footer.

use yew::prelude::*;

use super::engine_status::EngineStatus;
use super::header::{Header, Section};
use crate::web::i18n::Lang;

/// Properties of [`Shell`].
#[derive(Properties, PartialEq)]
pub struct ShellProps {
    /// Starting language.
    pub lang: Lang,
}

/// Header, main view and footer; keeps the current section and language.
#[function_component(Shell)]
pub fn shell(props: &ShellProps) -> Html {
    let lang = use_state(|| props.lang);
    let section = use_state(|| Section::Explore);
    {
        let lang = *lang;
        use_effect_with(lang, move |lang| {
            if let Some(root) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.document_element())
            {
                let _ = root.set_attribute("lang", lang.code());
            }
        });
    }
    let s = lang.strings();
    let intro = match *section {
        Section::Learn => s.learn_intro,
        Section::Explore => s.explore_intro,
        Section::GradientLab => s.gradient_lab_intro,
        Section::Settings => s.settings_intro,
    };
    let on_section = {
        let section = section.clone();
        Callback::from(move |s| section.set(s))
    };
    let on_lang = {
        let lang = lang.clone();
        Callback::from(move |l| lang.set(l))
    };
    html! {
        <div class="shell">
            <Header lang={*lang} section={*section} {on_section} {on_lang} />
            <main data-testid="main" data-section={section.id()}>
                <h2>{ section.name(*lang) }</h2>
                <p>{ intro }</p>
            </main>
            <footer>
                <span data-testid="footer-local">{ s.footer_local }</span>
                <EngineStatus lang={*lang} />
            </footer>
        </div>
    }
}
