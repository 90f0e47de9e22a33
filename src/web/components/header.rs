//! The page header: title, the four sections and the language switch.

use yew::prelude::*;

use crate::web::i18n::Lang;
use crate::web::section::Section;

/// Header properties.
#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    /// Current language.
    pub lang: Lang,
    /// Current section.
    pub section: Section,
    /// Called with the section the user picks.
    pub on_section: Callback<Section>,
    /// Called with the language the user picks.
    pub on_lang: Callback<Lang>,
}

/// The page header.
#[function_component(Header)]
pub fn header(props: &HeaderProps) -> Html {
    let s = props.lang.strings();
    let nav = Section::ALL.iter().map(|&section| {
        let on_section = props.on_section.clone();
        let class = classes!("nav", (section == props.section).then_some("active"));
        html! {
            <button {class} data-testid={format!("nav-{}", section.id())}
                    aria-current={(section == props.section).then_some("page")}
                    onclick={move |_| on_section.emit(section)}>
                { section.name(props.lang) }
            </button>
        }
    });
    let lang_button = |lang: Lang, label: &'static str| {
        let on_lang = props.on_lang.clone();
        html! {
            <button class={classes!("lang", (lang == props.lang).then_some("active"))}
                    data-testid={format!("lang-{}", lang.code())}
                    onclick={move |_| on_lang.emit(lang)}>{ label }</button>
        }
    };
    html! {
        <header>
            <div class="brand">
                <h1>{ s.title }</h1>
                <p class="tagline">{ s.tagline }</p>
            </div>
            <nav>{ for nav }</nav>
            <div class="languages" role="group" aria-label={s.language}>
                { lang_button(Lang::Vi, "Tiếng Việt") }
                { lang_button(Lang::En, "English") }
            </div>
        </header>
    }
}
