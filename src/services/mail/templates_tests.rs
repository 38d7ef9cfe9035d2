//! Unit tests of `templates.rs`: each e-mail's parts, escaping, and how
//! it reads with and without an institution name.

use super::*;

fn outreach() -> OutreachRequest {
    OutreachRequest {
        institution: Brand::new("Uni Bonn"),
        researcher_name: "Ada <Lovelace>".into(),
        paper_title: Some("Notes on the Analytical Engine".into()),
        readers_waiting: 3,
        reader_message: Some("How did you think about loops?".into()),
        register_url: "https://colloquy.uni.example/invite/abc".into(),
        opt_out_url: "https://colloquy.uni.example/opt-out/xyz".into(),
        address_source: "your profile page at https://uni.example/ada".into(),
        contact_email: "privacy@uni.example".into(),
        link_valid_days: 14,
        notice: super::super::data_rights_templates::Art14Notice {
            controller: "Uni Bonn".into(),
            contact_email: "privacy@uni.example".into(),
            sources: vec!["OpenAlex".into()],
            retention_days: 730,
            request_url: "https://colloquy.uni.example/privacy/request".into(),
            opt_out_url: "https://colloquy.uni.example/opt-out/xyz".into(),
        },
    }
}

#[test]
fn the_outreach_request_names_the_paper_the_readers_the_source_and_the_opt_out() {
    let c = outreach_request(&outreach()).unwrap();
    assert_eq!(
        c.subject,
        "Readers of \"Notes on the Analytical Engine\" would like to talk with you"
    );
    for part in [&c.text, &c.html] {
        for needle in [
            "Notes on the Analytical Engine",
            "3 readers",
            "How did you think about loops?",
            "https://colloquy.uni.example/invite/abc",
            "https://colloquy.uni.example/opt-out/xyz",
            "your profile page at https://uni.example/ada",
            "privacy@uni.example",
            "14 days",
        ] {
            assert!(part.contains(needle), "{needle} missing from {part}");
        }
    }
    assert!(
        c.text.contains("Ada <Lovelace>") && !c.html.contains("Ada <Lovelace>"),
        "HTML is escaped"
    );
    assert_eq!(
        c.headers[0],
        (
            "List-Unsubscribe".to_string(),
            "<https://colloquy.uni.example/opt-out/xyz>".to_string()
        )
    );
    assert_eq!(
        c.headers[1],
        (
            "List-Unsubscribe-Post".to_string(),
            "List-Unsubscribe=One-Click".to_string()
        )
    );
}

#[test]
fn the_session_request_has_everything_the_researcher_needs_to_answer() {
    let m = SessionRequest {
        institution: Brand::new("Uni Bonn"),
        researcher_name: "Ada Lovelace".into(),
        reader_name: "Grace Hopper".into(),
        topic: "Compilers for the Analytical Engine".into(),
        paper_title: Some("Notes".into()),
        start_local: "Tue 3 March 2026, 14:00 CET".into(),
        timezone: "Europe/Berlin".into(),
        reader_when: Some("Tue 3 March 2026, 08:00 EST (America/New_York)".into()),
        duration_minutes: 60,
        price: "EUR 40.00".into(),
        accept_url: "https://c.example/s/1/accept".into(),
        decline_url: "https://c.example/s/1/decline".into(),
        session_url: "https://c.example/s/1".into(),
        expires_local: "Mon 2 March 2026, 14:00 CET".into(),
    };
    let c = session_request(&m).unwrap();
    assert!(c.subject.starts_with("Session request from Grace Hopper"));
    for part in [&c.text, &c.html] {
        for needle in [
            "Grace Hopper",
            "Compilers for the Analytical Engine",
            "Tue 3 March 2026, 14:00 CET (Europe/Berlin)",
            "For Grace Hopper",
            "08:00 EST (America/New_York)",
            "60 minutes",
            "EUR 40.00",
            "https://c.example/s/1/accept",
            "https://c.example/s/1/decline",
            "Mon 2 March 2026, 14:00 CET",
        ] {
            assert!(part.contains(needle), "{needle} missing from {part}");
        }
    }
}

#[test]
fn the_interest_notice_counts_the_readers() {
    let c = interest_notice(&InterestNotice {
        institution: Brand::new("Uni Bonn"),
        name: "Ada".into(),
        readers_waiting: 4,
        profile_url: "https://c.example/researchers/7".into(),
    })
    .unwrap();
    for part in [&c.text, &c.html] {
        assert!(
            part.contains("4 readers") && part.contains("https://c.example/researchers/7"),
            "{part}"
        );
    }
}

#[test]
fn the_registration_welcome_links_the_profile_and_availability() {
    let m = RegistrationWelcome {
        institution: Brand::new("Uni Bonn"),
        name: "Ada Lovelace".into(),
        profile_url: "https://c.example/researchers/7".into(),
        availability_url: "https://c.example/account/availability".into(),
        contact_email: "help@uni.example".into(),
    };
    let c = registration_welcome(&m).unwrap();
    assert_eq!(c.subject, "Welcome to Uni Bonn");
    for part in [&c.text, &c.html] {
        for needle in [
            "Ada Lovelace",
            "https://c.example/researchers/7",
            "https://c.example/account/availability",
            "help@uni.example",
        ] {
            assert!(part.contains(needle), "{needle} missing from {part}");
        }
    }
}

#[test]
fn the_test_message_renders_both_parts_and_escapes_html() {
    let c = test_message(Brand::new("Uni <Bonn>"), true).unwrap();
    assert_eq!(c.subject, "Uni <Bonn>: test message");
    assert!(c.text.contains("Uni <Bonn>") && c.text.contains("SMTP settings work"));
    assert!(
        c.html.contains("Uni &#60;Bonn&#62;") || c.html.contains("Uni &lt;Bonn&gt;"),
        "{}",
        c.html
    );
    assert!(!c.html.contains("<Bonn>"));
}

#[test]
fn without_an_institution_name_no_mail_says_colloquy_twice() {
    let mut m = outreach();
    m.institution = Brand::default();
    let mut parts = Vec::new();
    for waiting in [0, 1] {
        m.readers_waiting = waiting;
        m.paper_title = None;
        let c = outreach_request(&m).unwrap();
        assert_eq!(c.subject, "Readers on Colloquy would like to talk with you");
        parts.extend([c.text, c.html]);
    }
    assert!(parts[0].contains("You are invited to offer consulting sessions to readers of your work through Colloquy."), "{}", parts[0]);
    assert!(parts[2].contains("A reader of your work would like to book a consulting session with you through Colloquy."), "{}", parts[2]);
    let welcome = registration_welcome(&RegistrationWelcome {
        institution: Brand::default(),
        name: "Ada".into(),
        profile_url: "https://c.example/researchers/7".into(),
        availability_url: "https://c.example/a".into(),
        contact_email: "help@uni.example".into(),
    })
    .unwrap();
    assert_eq!(welcome.subject, "Welcome to Colloquy");
    let notice = interest_notice(&InterestNotice {
        institution: Brand::default(),
        name: "Ada".into(),
        readers_waiting: 2,
        profile_url: "https://c.example/researchers/7".into(),
    })
    .unwrap();
    let test = test_message(Brand::default(), false).unwrap();
    parts.extend([
        welcome.text,
        welcome.html,
        notice.text,
        notice.html,
        test.text,
        test.html,
    ]);
    for part in &parts {
        for bad in [
            "Colloquy's Colloquy",
            "Colloquy · Colloquy",
            "Colloquy's",
            " of .",
        ] {
            assert!(!part.contains(bad), "{bad:?} in {part}");
        }
    }
}

#[test]
fn the_outreach_request_carries_the_art_14_notice_in_both_parts() {
    let c = outreach_request(&outreach()).unwrap();
    for part in [&c.text, &c.html] {
        for needle in [
            "About your data (Art. 14 GDPR)",
            "Uni Bonn, the controller of your data",
            "public sources only: OpenAlex",
            "to invite you to offer consulting sessions",
            "legitimate interest (Art. 6(1)(f) GDPR)",
            "730 days",
            "https://colloquy.uni.example/privacy/request",
            "complain to a data-protection authority",
        ] {
            assert!(part.contains(needle), "{needle} missing from {part}");
        }
    }
    let mut m = outreach();
    m.notice.retention_days = 0;
    let c = outreach_request(&m).unwrap();
    assert!(
        c.text.contains("kept until you ask us to delete it"),
        "{}",
        c.text
    );
}
