//! utoipa writes a generic `Page<T>`'s `items` as an anonymous copy of
//! `T`, so generated clients got a second type beside the named one (for
//! example `PageResearcherViewItemsItem` beside `ResearcherView`). Here
//! each `Page_T`'s items refer to the schema `T`, which is added to the
//! components from that copy when no route named it yet.

use utoipa::openapi::{OpenApi, RefOr, Schema};

/// Makes every `Page_T` refer to `T`.
pub fn reference_items(api: &mut OpenApi) {
    let Some(components) = api.components.as_mut() else {
        return;
    };
    let items: Vec<String> = components
        .schemas
        .keys()
        .filter_map(|k| k.strip_prefix("Page_").map(str::to_string))
        .collect();
    for item in items {
        let page_name = format!("Page_{item}");
        let Some(mut page) = components
            .schemas
            .get(&page_name)
            .and_then(|s| serde_json::to_value(s).ok())
        else {
            continue;
        };
        let slot = &mut page["properties"]["items"]["items"];
        if slot.get("$ref").is_some() || slot.is_null() {
            continue;
        }
        let inline = slot.take();
        *slot = serde_json::json!({ "$ref": format!("#/components/schemas/{item}") });
        if !components.schemas.contains_key(&item) {
            match serde_json::from_value::<RefOr<Schema>>(inline) {
                Ok(schema) => {
                    components.schemas.insert(item.clone(), schema);
                }
                Err(_) => continue,
            }
        }
        if let Ok(page) = serde_json::from_value::<RefOr<Schema>>(page) {
            components.schemas.insert(page_name, page);
        }
    }
}
