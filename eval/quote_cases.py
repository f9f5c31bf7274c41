"""Self-written cases for quotation detection (index/quotes.py): TUNE chose QUOTE_MIN_WORDS,
HELD_OUT (written after the choice, never tuned on) reports it. Each case is an earlier piece,
a later piece, and whether the later one quotes the earlier (``quote``); ``dated`` gives both
pieces a date (else the direction must come from the later piece's own cues)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Case:
    name: str
    earlier: str
    later: str
    quote: bool
    dated: bool = True


_HARBOUR = (
    "The harbour cooperative started with nine boats and a shared freezer. Nobody planned it as "
    "a movement; the ice plant had closed and the buyers from the city paid whatever they liked. "
    "Pooling the catch meant one price for everyone, and the price was finally set on the quay "
    "rather than in an office two hundred miles inland.\n\n"
    "What surprised me most was how quickly the younger crews took to the paperwork. The hard "
    "part of a cooperative is never the fish, it is the trust between families who have undercut "
    "each other for three generations and still remember every slight.\n\n"
    "By the second winter the freezer was too small, and the arguments moved from who could be "
    "trusted to how large the next loan should be, which is the kind of argument a town is lucky "
    "to have.")
_COMPOST = (
    "Our street began collecting food scraps in a borrowed wheelie bin. Within a month the bin "
    "was full by Wednesday, and the question changed from whether anyone would bother to where "
    "on earth the stuff should go.\n\n"
    "A compost heap is a small slow fire that you have to feed with patience, and most of the "
    "failures I have seen come from people who wanted the fire without the patience. The council "
    "eventually lent us a shredder, which helped more than any leaflet.\n\n"
    "If I had to start again I would recruit the two neighbours with allotments before printing a "
    "single poster, because a street follows the people who already know what good soil smells like.")
_BIKES = (
    "I have cycled to work for eleven years and the route has changed more than I have. The "
    "painted lane on the ring road appeared, faded, and was quietly removed when the road was "
    "resurfaced, and nobody at the council could tell me who had decided that.\n\n"
    "The real obstacle to cycling in a small city is not hills or rain but the sense that you are "
    "doing something slightly eccentric, which wears people down faster than any headwind ever "
    "could.\n\n"
    "Most mornings I pass the same six riders at the same junction, and we nod like members of a "
    "club that has never met, which is perhaps the only kind of club I would want to join.")

# A stock phrase the writer uses in unrelated pieces (a coincidence, not a quotation).
_STOCK = "what matters in the end is whether the thing works for the people who use it"
# A statement both pieces quote from someone else (not a quotation of one another).
_MINISTER = ("“We will not allow the harbour to become a museum of an industry that once fed this "
             "whole coast,” the minister said.")

TUNE: list[Case] = [
    Case("long quote introduced, dated",
         _HARBOUR,
         "Ten years on I went back to the quay. As I wrote back then: the hard part of a cooperative "
         "is never the fish, it is the trust between families who have undercut each other for "
         "three generations and still remember every slight. That is still true, and now the "
         "families argue about solar panels instead.", True),
    Case("long quote in quotation marks, undated",
         _COMPOST,
         "A reader asked how our scheme survived. I once wrote that “a compost heap is a small slow "
         "fire that you have to feed with patience, and most of the failures I have seen come from "
         "people who wanted the fire without the patience.” The shredder did the rest.", True,
         dated=False),
    Case("twenty-two words in a blockquote, undated",
         _BIKES,
         "Someone sent me my own old paragraph this week:\n\n> The real obstacle to cycling in a "
         "small city is not hills or rain but the sense that you are doing something slightly "
         "eccentric\n\nI would put it more gently now.", True, dated=False),
    Case("quote with changed punctuation and case, dated",
         _HARBOUR,
         "Here is the line people still send me: POOLING THE CATCH MEANT ONE PRICE FOR EVERYONE - "
         "and the price was finally set on the quay, rather than in an office, two hundred miles "
         "inland. I stand by it.", True),
    Case("a sentence of thirteen words repeated, dated",
         _COMPOST,
         "The council eventually lent us a shredder, which helped more than any leaflet, and I said "
         "so at the time. This year they lent us a van.", True),
    Case("both quote an outside statement of eighteen words, dated",
         _HARBOUR + "\n\n" + _MINISTER,
         "The minister's line is on every poster now: " + _MINISTER + " Nobody asked the crews.",
         False),
    Case("stock phrase in two pieces, dated",
         _BIKES + "\n\nIn the end " + _STOCK + ".",
         "Policy papers are fine, but " + _STOCK + ", and on that test the new scheme fails.",
         False),
    Case("same topic, no shared passage, dated",
         _HARBOUR,
         "Cooperatives of fishing boats are older than most people think. The herring fleets of the "
         "north ran shared curing sheds long before the word cooperative was fashionable, and the "
         "trust between crews was built on debt as much as on kinship.", False),
    Case("fifteen words with a cue, undated",
         _COMPOST,
         "As I wrote before: a street follows the people who already know what good soil smells "
         "like. Posters are for later.", True, dated=False),
    Case("thirty words, no cue, undated: direction unknown",
         _BIKES,
         "Most mornings I pass the same six riders at the same junction, and we nod like members of "
         "a club that has never met, which is perhaps the only kind of club I would want to join. "
         "Then the lights change.", False, dated=False),
    Case("twenty-five words, no cue, dated",
         _HARBOUR,
         "A short note from the quay. By the second winter the freezer was too small, and the "
         "arguments moved from who could be trusted to how large the next loan should be. More "
         "soon.", True),
]

TUNE += [
    Case("the same long title in two lists of posts, dated",
         _BIKES + "\n\nEarlier this year:\n- Why the painted lane on the ring road disappeared and "
         "who decided that it should\n- Six riders at one junction",
         "Some older pieces:\n- Why the painted lane on the ring road disappeared and who decided "
         "that it should\n- A compost heap on a terraced street", False),
    Case("a twelve-word phrase in two unrelated pieces, dated",
         _COMPOST + "\n\nIt was the sort of tool that was used by gardeners for a long time.",
         "The tide table is the sort of tool that was used by gardeners for a long time, and "
         "then by nobody.", False),
]

HELD_OUT: list[Case] = []
