//! Finding an author in OpenAlex: by OpenAlex id, by ORCID, or by name
//! (the affiliation picks among namesakes). The OpenAlex step and the
//! do-not-collect screen (`screen`) both ask through here, with the same
//! call key, so the second asks the cache, not OpenAlex.

use super::calls::{self, Called, Provider};
use crate::error::AppResult;
use crate::providers::openalex::Author;
use crate::providers::ProviderError;
use crate::state::AppState;

/// Who to look for: the profile's (or the paper's) identity and name.
pub(super) struct Wanted<'a> {
    pub(super) openalex_id: Option<&'a str>,
    pub(super) orcid: Option<&'a str>,
    pub(super) name: &'a str,
    pub(super) affiliation: &'a str,
}

/// The author OpenAlex knows for `w` (`None`: no match).
pub(super) async fn find_author(
    state: &AppState,
    w: &Wanted<'_>,
) -> AppResult<Result<Called<Option<Author>>, ProviderError>> {
    let client = &state.providers.openalex;
    match (w.openalex_id, w.orcid) {
        (Some(id), _) => {
            calls::call(
                state,
                Provider::OpenAlex,
                "author",
                id.to_string(),
                false,
                || async { client.author(id).await.map(Some) },
            )
            .await
        }
        (None, Some(orcid)) => {
            let key = format!("orcid:{orcid}");
            calls::call(
                state,
                Provider::OpenAlex,
                "author",
                key.clone(),
                false,
                || async { client.author(&key).await.map(Some) },
            )
            .await
        }
        (None, None) => {
            let (name, affiliation) = (w.name, w.affiliation);
            calls::call(
                state,
                Provider::OpenAlex,
                "search",
                // The best hit depends on the affiliation, so it is part of the key.
                format!("{}|{}", name.to_lowercase(), affiliation.to_lowercase()),
                false,
                || async {
                    let hits = client.search_authors(name).await?;
                    let best = hits
                        .into_iter()
                        .enumerate()
                        .max_by_key(|(i, a)| {
                            (
                                affinity(a.institution.as_deref().unwrap_or(""), affiliation),
                                usize::MAX - i,
                            )
                        })
                        .map(|(_, a)| a);
                    Ok(best)
                },
            )
            .await
        }
    }
}

/// Word overlap between two affiliation strings, for picking the right
/// person among namesakes.
fn affinity(a: &str, b: &str) -> usize {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 2)
            .map(str::to_lowercase)
            .collect()
    };
    let (wa, wb) = (words(a), words(b));
    wa.iter().filter(|w| wb.contains(w)).count()
}

#[cfg(test)]
mod tests {
    use super::affinity;

    #[test]
    fn affiliations_are_compared_by_shared_words() {
        assert_eq!(
            affinity(
                "University of Toronto",
                "Dept. of CS, University of Toronto"
            ),
            2
        );
        assert_eq!(affinity("Google Brain", "University of Toronto"), 0);
    }
}
