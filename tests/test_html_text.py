"""html_to_text: Substack furniture, footnotes, code, embeds, active content, and linear time."""

from __future__ import annotations

import time

from backlist.ingest.html import MAX_DEPTH, html_to_text


def test_inline_markup_keeps_its_spaces_and_code_keeps_its_lines():
    out = html_to_text("<p>a <em>b</em> c and <a href='https://e.org/x'>two\nlines</a></p>"
                       "<pre><code>if tide:\n    wait()\n</code></pre>")
    assert out.text == "a b c and two lines\n\nif tide:\n    wait()"
    assert out.links == [{"text": "two lines", "url": "https://e.org/x"}]


def test_substack_furniture_dropped_and_footnotes_follow_the_text():
    html = ('<p>The reef held<a class="footnote-anchor" data-component-name="FootnoteAnchorToDOM" '
            'id="footnote-anchor-1" href="#footnote-1">1</a>.</p>'
            '<div class="footnote" data-component-name="FootnoteToDOM"><a id="footnote-1" '
            'href="#footnote-anchor-1" class="footnote-number">1</a><div class="footnote-content">'
            '<p>Survey of May.</p></div></div>'
            '<p class="button-wrapper" data-component-name="ButtonCreateButton"><a class="button '
            'primary" href="https://x.example/subscribe"><span>Subscribe now</span></a></p>'
            '<p>After the button.</p>')
    out = html_to_text(html)
    assert out.text == "The reef held [1].\n\nAfter the button.\n\n[1] Survey of May."
    assert out.links == []


def test_active_content_never_becomes_text():
    html = ('<p onclick="steal()">Kept <b onmouseover="x()">words</b></p>'
            '<script>document.cookie</script><style>p{}</style><iframe src="https://e.org">'
            'frame</iframe><noscript>ns</noscript><object>obj</object><svg><text>svg</text></svg>'
            '<a href="javascript:alert(1)">js link</a><img src="javascript:alert(2)" alt="x">'
            '<form><button>Go</button><textarea>typed</textarea></form>')
    out = html_to_text(html)
    assert out.text == "Kept words\n\njs link"
    assert out.links == [] and out.images == []


def test_200000_nested_divs_are_flattened_quickly():
    n = 200_000
    started = time.perf_counter()
    out = html_to_text("<div>" * n + "deep water" + "</div>" * n + "<p>after</p>")
    elapsed = time.perf_counter() - started
    assert out.text == "deep water\n\nafter"
    assert out.warnings == [f"HTML nested over {MAX_DEPTH} levels deep: {n - MAX_DEPTH:,} inner "
                            "element(s) flattened into their parent"]
    assert elapsed < 20, elapsed


def test_200000_links_in_linear_time():
    n = 200_000
    html = "<p>" + " ".join(f'<a href="https://e.org/{i}">w{i}</a>' for i in range(n)) + "</p>"
    started = time.perf_counter()
    out = html_to_text(html)
    elapsed = time.perf_counter() - started
    assert len(out.links) == n and out.links[-1] == {"text": f"w{n - 1}", "url": f"https://e.org/{n - 1}"}
    assert out.text.startswith("w0 w1 w2") and out.text.endswith(f"w{n - 1}")
    assert out.warnings == []
    assert elapsed < 20, elapsed


def test_tag_count_cap_cuts_with_a_warning():
    html = "".join(f"<p>p{i}</p>" for i in range(6000))
    out = html_to_text(html, max_tags=3000)
    assert out.text.split("\n\n")[-1] == "p1499"
    assert out.warnings == ["HTML has over 3,000 tags: the rest of the page was left out"]
