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

# Written after QUOTE_MIN_WORDS was chosen, on new pieces; never used to tune anything.
_LIBRARY = (
    "The village library opens on Tuesdays and Saturdays, and on both days the same four people "
    "are waiting at the door before the volunteer has found her keys. They do not come for the "
    "books, or not only for the books.\n\n"
    "A library in a place this size is the last room where you can sit for an hour without buying "
    "anything and without anyone asking you why you are there, and that is worth more than the "
    "whole budget the county spends on it.\n\n"
    "The new self-service machine has been a mixed blessing: it saves the volunteer twenty minutes "
    "a day and costs the regulars the one conversation they were sure of having.")
_TRAINS = (
    "The night train to the coast leaves at eleven and arrives, if the timetable is to be "
    "believed, at half past six. The timetable is rarely to be believed.\n\n"
    "Sleeping on a train is a skill that nobody teaches you, and the people who have it guard it "
    "like a family recipe, refusing to explain what they do with their shoes or their pillows.\n\n"
    "When the line was threatened with closure the petition gathered more signatures from "
    "people who had never taken the train than from people who had, which tells you something "
    "about what a night train is really for.")
_BEES = (
    "My first hive died in its first winter and I learned more from that box of dead bees than "
    "from any of the three books I had read that autumn.\n\n"
    "Beekeeping rewards the kind of attention that looks like doing nothing: standing by the hive "
    "for ten minutes, watching which way the foragers turn, noticing who comes back heavy and who "
    "comes back light.\n\n"
    "The association meets on the first Thursday of the month and spends most of the evening "
    "arguing about varroa treatments, which is how you know it is a healthy association.")

HELD_OUT: list[Case] = [
    Case("forty words introduced, dated", _LIBRARY,
         "Budgets are being cut again. I argued two years ago that a library in a place this size "
         "is the last room where you can sit for an hour without buying anything and without "
         "anyone asking you why you are there. The county disagreed.", True),
    Case("twenty words in quotation marks, undated", _TRAINS,
         "Friends still tease me for writing that “sleeping on a train is a skill that nobody "
         "teaches you, and the people who have it guard it like a family recipe”.", True,
         dated=False),
    Case("thirty words, no cue, dated", _BEES,
         "Spring inspection notes. Beekeeping rewards the kind of attention that looks like doing "
         "nothing: standing by the hive for ten minutes, watching which way the foragers turn. "
         "The queen is laying.", True),
    Case("a paragraph reworded, dated", _LIBRARY,
         "The self-service machine saved our volunteer a quarter of an hour each day, but the "
         "regulars lost the single chat they could count on.", False),
    Case("same subject, own words, dated", _TRAINS,
         "Night trains are back in fashion. The sleeper to the coast still leaves late and still "
         "arrives later than promised, and the petition to save it was signed mostly by people "
         "who never ride it.", False),
    Case("a short stock phrase, dated", _BEES + "\n\nWhich is how you know it is a healthy thing.",
         "The allotment committee argues about slugs all evening, which is how you know it is a "
         "healthy committee.", False),
    Case("twenty-four words in a blockquote, undated", _BEES,
         "From the archive:\n\n> My first hive died in its first winter and I learned more from "
         "that box of dead bees than from any of the three books\n\nStill true.", True,
         dated=False),
    Case("seven words quoted, dated", _TRAINS,
         "As I wrote once, the timetable is rarely to be believed, and the night train proves "
         "it weekly.", True),
    Case("both quote a notice, dated",
         _LIBRARY + "\n\nThe notice on the door read: “This branch will close at four on "
         "Saturdays from the first of March until further notice, by order of the county.”",
         "The same notice is on every branch now: “This branch will close at four on Saturdays "
         "from the first of March until further notice, by order of the county.”", False),
    Case("twenty-two words with swapped quote marks and case, undated", _LIBRARY,
         'I keep coming back to a line of mine: "THE NEW SELF-SERVICE MACHINE HAS BEEN A MIXED '
         'BLESSING: it saves the volunteer twenty minutes a day and costs the regulars the one '
         'conversation".', True, dated=False),
]
