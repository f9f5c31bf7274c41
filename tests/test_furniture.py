"""Publication furniture: learned from what a source repeats in many pieces, plus a fixed list;
quotations of one piece by another and dialogue stay. All text is self-written."""

from __future__ import annotations

from backlist.ingest.furniture import (
    FIXED_ONLY,
    MIN_SOURCE_PIECES,
    Furniture,
    is_fixed,
    min_pieces,
    sentences,
)
from backlist.model import Turn

PLUG = "Tide Notes is a weekly letter about the shore, funded by its readers."
QUOTE = "The marsh keeps its own calendar, and the birds read it better than we do."


def piece(i: int, extra: str = "") -> str:
    return (f"Survey {i} counted {i * 3} dunlin on the north flats.{extra}\n\n{PLUG}\n\n"
            f"The tide turned at {i} in the afternoon. Thanks for reading!")


def test_a_sentence_in_many_pieces_is_learned_and_dropped_a_quotation_in_a_few_is_not():
    texts = [piece(i, f" As I wrote before: {QUOTE}" if i < 4 else "") for i in range(20)]
    furniture = Furniture.learn(texts)
    assert PLUG.casefold() in furniture.learned
    assert not any("marsh" in s for s in furniture.learned)  # 4 of 20 pieces: a quotation
    text, dropped = furniture.drop(texts[0])
    assert dropped == 1 and PLUG not in text and QUOTE in text
    assert text.startswith("Survey 0 counted 0 dunlin") and "Thanks for reading!" in text


def test_the_threshold_grows_with_the_source_and_small_sources_teach_nothing():
    assert min_pieces(20) == 5 and min_pieces(62) == 7
    few = [piece(i) for i in range(MIN_SOURCE_PIECES - 1)]
    assert Furniture.learn(few).learned == frozenset()
    # in 4 of 62 pieces: below the 10% share, kept
    many = [piece(i) if i < 4 else f"Essay {i} on kelp and its holdfasts." for i in range(62)]
    assert PLUG.casefold() not in Furniture.learn(many).learned


def test_long_sentences_are_never_learned():
    long = ("The long sentence that every piece repeats keeps going with words about herons, "
            "egrets, terns, plovers, curlews, godwits and knots on the mud.")
    texts = [f"Piece {i} on the estuary.\n\n{long}" for i in range(10)]
    assert len(long.split()) > 20
    assert Furniture.learn(texts).learned == frozenset()


def test_fixed_list_calls_to_action():
    for s in ("Tide Notes is a reader-supported publication.",
              "To receive new posts and support my work, consider becoming a free or paid subscriber.",
              "Consider becoming a subscriber.",
              "Listen on Apple Podcasts, Spotify, YouTube, and wherever you get your podcasts.",
              "For other Tide Notes interviews, go here."):
        assert is_fixed(s), s
    for s in ("Note: the tide tables are in local time.", "I listened to the curlews at 10:30.",
              "Consider the dunlin.", "Subscribers asked about plovers."):
        assert not is_fixed(s), s


def test_dropping_keeps_the_rest_of_a_paragraph_and_unchanged_text_is_returned_as_is():
    text = ("We counted knots. Tide Notes is a reader-supported publication. Consider becoming a "
            "subscriber. Then the fog came in.\n\n  - an indented list item")
    out, n = FIXED_ONLY.drop(text)
    assert n == 2
    assert out == "We counted knots. Then the fog came in.\n\n  - an indented list item"
    same = "Nothing here.\n \nAt all."
    assert FIXED_ONLY.drop(same) == (same, 0)


def test_turns_lose_only_fixed_furniture_and_empty_turns_go():
    turns = [Turn("Odile Brand", "Welcome back. Listen on Spotify and wherever you get your podcasts."),
             Turn("Wen Li", "Consider becoming a subscriber."),
             Turn("Odile Brand", "Thanks for having me.")]
    out, n = FIXED_ONLY.drop_from_turns(turns)
    assert n == 2
    assert [(t.speaker, t.text) for t in out] == [("Odile Brand", "Welcome back."),
                                                   ("Odile Brand", "Thanks for having me.")]
    assert out[1] is turns[2]


def test_sentences_split_after_closing_quotes_and_before_numbers():
    assert sentences("He said “go.” Then we went. 3. A list item") == [
        "He said “go.”", "Then we went.", "3. A list item"]
    assert sentences("Version 4.5 shipped. It is fast.") == ["Version 4.5 shipped.", "It is fast."]
