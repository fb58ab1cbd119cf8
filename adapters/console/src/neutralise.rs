//! Neutralises invisible, control and direction-changing characters in texts shown to staff.
//!
//! A citizen's text could use bidi overrides (U+202E "right-to-left override" makes
//! `gnp.exe` read as `exe.png`), isolates, invisible marks, zero-width characters or Unicode
//! tag characters to make a text look different from what it is, or to hide content. In staff
//! views (the API, hence the console) each such character is replaced by a visible marker such
//! as `[U+202E]`, so staff see exactly what was sent and nothing is hidden or reordered. The
//! stored text is unchanged (answers quote nothing from it; exports stay faithful).
//!
//! Variation selectors (U+FE0E, U+FE0F) are left alone: they choose text or emoji
//! presentation of the character before them, hide nothing, and are part of ordinary emoji.
//!
//! HTML is not a concern here: the console inserts every text with `textContent`.

use std::borrow::Cow;

/// Whether `c` is a bidi control or an invisible (zero-width or tag) character.
pub fn is_deceptive(c: char) -> bool {
    matches!(
        c,
        // Bidi embeddings, overrides, isolates and marks.
        '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}'
            // Zero-width space, non-joiner, joiner; word joiner and invisible operators.
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'..='\u{2064}'
            // Byte order mark / zero-width no-break space; Mongolian vowel separator.
            | '\u{FEFF}'
            | '\u{180E}'
            // Soft hyphen (invisible unless at a line break), combining grapheme joiner.
            | '\u{00AD}'
            | '\u{034F}'
            // Hangul fillers that render as nothing.
            | '\u{115F}'
            | '\u{1160}'
            | '\u{3164}'
            | '\u{FFA0}'
            // Interlinear annotation controls.
            | '\u{FFF9}'..='\u{FFFB}'
            // Tag characters (invisible "ASCII smuggling").
            | '\u{E0000}'..='\u{E007F}'
    ) || is_hidden_control(c)
}

/// C0 and C1 control characters and DELETE (U+007F), which terminals and some fonts act on
/// or show as nothing; line breaks and tabs are text.
fn is_hidden_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\r' | '\t')
}

/// `text` with every [`is_deceptive`] character replaced by `[U+XXXX]`; borrowed when there
/// is none.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_deceptive) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_deceptive(c) {
            out.push_str(&format!("[U+{:04X}]", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deceptive_characters_become_visible_markers_and_others_stay() {
        for (input, shown) in [
            ("Rechnung\u{202E}fdp.exe", "Rechnung[U+202E]fdp.exe"),
            ("pay\u{200B}pal", "pay[U+200B]pal"),
            ("\u{2067}abc\u{2069}", "[U+2067]abc[U+2069]"),
            ("a\u{E0041}b", "a[U+E0041]b"),
            ("\u{FEFF}Hallo", "[U+FEFF]Hallo"),
            (
                "Straße, Ölweg – „Grüße“ مرحبا",
                "Straße, Ölweg – „Grüße“ مرحبا",
            ),
            ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        ] {
            assert_eq!(neutralise(input), shown, "{input:?}");
        }
        assert!(matches!(neutralise("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn control_characters_and_delete_become_visible_markers_but_line_breaks_stay() {
        for (input, shown) in [
            ("Bau\u{7F}antrag", "Bau[U+007F]antrag"),
            ("a\u{0}b\u{1B}[2J", "a[U+0000]b[U+001B][2J"),
            ("c1\u{85}\u{9B}", "c1[U+0085][U+009B]"),
            (
                "Zeile 1\nZeile 2\r\n\tEingerückt",
                "Zeile 1\nZeile 2\r\n\tEingerückt",
            ),
        ] {
            assert_eq!(neutralise(input), shown, "{input:?}");
        }
    }

    #[test]
    fn soft_hyphens_fillers_and_the_grapheme_joiner_are_shown_but_emoji_selectors_are_not() {
        for (input, shown) in [
            ("Bau\u{00AD}antrag", "Bau[U+00AD]antrag"),
            ("a\u{034F}b", "a[U+034F]b"),
            ("\u{115F}\u{1160}x", "[U+115F][U+1160]x"),
            ("name\u{3164}", "name[U+3164]"),
            ("\u{FFA0}", "[U+FFA0]"),
            // Variation selectors belong to normal emoji and text: unchanged.
            ("\u{2764}\u{FE0F} danke", "\u{2764}\u{FE0F} danke"),
            ("\u{263A}\u{FE0E}", "\u{263A}\u{FE0E}"),
        ] {
            assert_eq!(neutralise(input), shown, "{input:?}");
        }
        assert!(!is_deceptive('\u{FE0F}') && !is_deceptive('\u{FE0E}'));
    }
}
