//! The slot picker with the keyboard alone: Tab from the top of the page
//! reaches the slots, the arrow keys choose one, Tab reaches the topic and
//! the button, and Enter books the slot chosen.

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::Client;

use crate::browser::start_browser;
use crate::browser_booking::{log_in, text_of};
use crate::helpers::spawn_app;
use crate::sessions_fixtures::bookable_researcher;

/// Presses `keys` one after the other, as a person would type them.
async fn press(c: &Client, keys: &[char]) {
    let mut seq = KeyActions::new("keyboard".into());
    for k in keys {
        seq = seq
            .then(KeyAction::Down { value: *k })
            .then(KeyAction::Up { value: *k });
    }
    c.perform_actions(seq).await.unwrap();
}

/// What has the focus: its tag, name and value.
async fn focused(c: &Client) -> (String, String, String) {
    let v = c
        .execute(
            "const e = document.activeElement; return [e.tagName, e.name || '', e.value || ''];",
            vec![],
        )
        .await
        .unwrap();
    let s = |i: usize| v[i].as_str().unwrap_or_default().to_string();
    (s(0), s(1), s(2))
}

/// Tabs forward until `want(tag, name)` holds; panics after `limit` presses.
async fn tab_to(c: &Client, limit: usize, want: impl Fn(&str, &str) -> bool) -> String {
    for _ in 0..limit {
        press(c, &[Key::Tab.into()]).await;
        let (tag, name, value) = focused(c).await;
        if want(&tag, &name) {
            return value;
        }
    }
    panic!("{limit} presses of Tab did not reach it");
}

#[tokio::test]
async fn a_reader_picks_a_slot_and_books_it_with_the_keyboard_alone() {
    let app = spawn_app().await;
    let researcher = bookable_researcher(&app, "grace@yale.example").await;
    let r = app
        .register("rosalind@uni.example", "Rosalind Reader")
        .await;
    assert_eq!(r.status(), 201);
    let Some((_driver, c)) = start_browser().await else {
        return;
    };
    log_in(&c, &app, "rosalind@uni.example").await;
    c.goto(&app.url(&format!("/researchers/{}", researcher.researcher_id)))
        .await
        .unwrap();
    let slots: Vec<String> = c
        .execute(
            "return [...document.querySelectorAll(\"#book-form input[name='start']\")].map(e => e.value);",
            vec![],
        )
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(slots.len() > 2, "{slots:?}");

    // Tab reaches the group at its first slot; an arrow key moves to and
    // chooses the next one.
    let first = tab_to(&c, 60, |tag, name| tag == "INPUT" && name == "start").await;
    assert_eq!(first, slots[0], "the group is entered at its first slot");
    press(&c, &[Key::Down.into()]).await;
    let (_, name, value) = focused(&c).await;
    assert_eq!(
        (name.as_str(), value.as_str()),
        ("start", slots[1].as_str())
    );
    let checked = c
        .execute(
            "return document.querySelector(\"#book-form input[name='start']:checked\").value;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(checked.as_str(), Some(slots[1].as_str()));

    // One Tab leaves the group for the topic; then on to the button.
    tab_to(&c, 1, |tag, name| tag == "TEXTAREA" && name == "topic").await;
    let topic: Vec<char> = "Loops in the Analytical Engine".chars().collect();
    press(&c, &topic).await;
    tab_to(&c, 3, |tag, _| tag == "BUTTON").await;
    press(&c, &[Key::Enter.into()]).await;

    c.wait()
        .for_element(fantoccini::Locator::Css("#session-status"))
        .await
        .unwrap();
    assert_eq!(text_of(&c, "#session-status").await, "requested");
    let id: i64 = c
        .current_url()
        .await
        .unwrap()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let start: String = app
        .state
        .db
        .read(move |conn| {
            Ok(conn.query_row(
                "SELECT start_at FROM consulting_sessions WHERE id = ?1",
                [id],
                |row| row.get(0),
            )?)
        })
        .await
        .unwrap();
    let start = chrono::DateTime::parse_from_rfc3339(&start).unwrap();
    let picked = chrono::DateTime::parse_from_rfc3339(&slots[1]).unwrap();
    assert_eq!(
        start, picked,
        "the slot booked is the one chosen with the keys"
    );
    c.close().await.unwrap();
}
