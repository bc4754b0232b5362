"""Real sentences with an ambiguous word ("bank", "cold", "light", "play"), their senses labelled by hand.

Defined in Day 25. The sentences come from three packaged corpora: gensim's Lee background corpus
(Australian news, 2001), Jane Austen's six novels (Debian ``r-cran-janeaustenr``, see ``austen``) and the
chatterbot-corpus English dialogues (``helpers.dialogues``). Nothing is downloaded here beyond what
those modules fetch.

How the sentences were chosen (deterministic, before any labelling): each corpus is split into sentences
(after ``.``, ``!`` or ``?`` and a space); for every word and every corpus, in corpus order, keep the first
``PER_CORPUS`` distinct sentences of 6-40 words in which the word occurs exactly once as a whole word
(any case). Every kept sentence was then read and labelled by hand in ``LABELS``; a sentence whose sense
is none of the word's senses is labelled ``other`` and left out of the analysis. ``load_labelled`` checks
that the rule still returns exactly the labelled sentences, so the labels cannot drift from the data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WORDS = ("bank", "cold", "light", "play")
CORPORA = ("lee", "austen", "chatterbot")
PER_CORPUS = 10

#: (word, corpus, first characters of the sentence, sense), in the order the selection rule returns them.
LABELS: list[tuple[str, str, str, str]] = [
    ("bank", "lee", "A Palestinian man has been shot", "West Bank (place)"),
    ("bank", "lee", "If it eases its blockade", "West Bank (place)"),
    ("bank", "lee", "Tanks also returned to a West", "West Bank (place)"),
    ("bank", "lee", "They moved their forces out", "West Bank (place)"),
    ("bank", "lee", "An official from Palestinian", "West Bank (place)"),
    ("bank", "lee", "Today, Palestinian gunmen", "West Bank (place)"),
    ("bank", "lee", "In the first, Israeli troops", "West Bank (place)"),
    ("bank", "lee", "Israeli troops operating in West", "West Bank (place)"),
    ("bank", "lee", "Apache helicopters and F-16", "West Bank (place)"),
    ("bank", "lee", "Late Wednesday local time", "West Bank (place)"),
    ("bank", "austen", "Her father, instead of giving", "money"),
    ("bank", "austen", "Anne found a nice seat", "slope of ground"),
    ("bank", "chatterbot", "that all depends on the actions", "money"),
    ("bank", "chatterbot", "any substance or article used", "money"),
    ("cold", "lee", "Around 1,000 people have braved", "low temperature"),
    ("cold", "austen", "He was not an ill-disposed", "unfeeling"),
    ("cold", "austen", "How cold, how composed", "unfeeling"),
    ("cold", "austen", "Dashwood, who had already a cold", "illness"),
    ("cold", "austen", "He was afraid of catching cold", "illness"),
    ("cold", "austen", "Business on Sir John's part", "illness"),
    ("cold", "austen", "There was a kind of cold hearted", "unfeeling"),
    ("cold", "austen", "The night was cold and stormy", "low temperature"),
    ("cold", "austen", "The world had made him extravagant", "unfeeling"),
    ("cold", "austen", "Why must _she_ be scampering", "illness"),
    ("cold", "austen", "My sister, I am sure, will not", "unfeeling"),
    ("cold", "chatterbot", "The Space Race was a 20th-century", "Cold War (name)"),
    ("cold", "chatterbot", "When did the Cold War end?", "Cold War (name)"),
    ("light", "lee", "Assa Abloy, accompanied by", "not heavy"),
    ("light", "lee", "The Round the World racers", "not heavy"),
    ("light", "lee", "The sources say Britain has", "not heavy"),
    ("light", "lee", "US aircraft have been bombarding", "illumination"),
    ("light", "lee", "The documents prove conclusively", "other"),  # 'green light': permission, an idiom
    ("light", "lee", "The US forces also include light", "not heavy"),
    ("light", "austen", "Margaret related something", "point of view"),
    ("light", "austen", "Edward have got some business", "other"),  # 'light upon': come upon, a verb
    ("light", "austen", "Jennings had supposed her to do", "not heavy"),
    ("light", "austen", "Ferrars considered it in that", "point of view"),
    ("light", "austen", "I certainly should have represented", "point of view"),
    ("light", "austen", "By their uncertain light", "illumination"),
    ("light", "austen", "My dearest Lizzy, do but consider", "point of view"),
    ("light", "austen", "And I do not think it of light", "not heavy"),
    ("light", "austen", "I am not ashamed of having", "not heavy"),
    ("light", "austen", "Jenkinson expressed her fears", "illumination"),
    ("light", "chatterbot", "What has a gravitational pull", "illumination"),
    ("play", "lee", "\"This is why you play,\"", "game or sport"),
    ("play", "lee", "Authorities in Kabul have been", "a role"),
    ("play", "lee", "Today, the United States will", "game or sport"),
    ("play", "lee", "When play was abandoned", "game or sport"),
    ("play", "lee", "Veteran fast bowler Allan Donald", "game or sport"),
    ("play", "lee", "The Australian and South African", "game or sport"),
    ("play", "lee", "Australian captain Steve Waugh", "game or sport"),
    ("play", "lee", "The match holds special", "game or sport"),
    ("play", "lee", "They will play audio", "other"),  # playing back recordings
    ("play", "lee", "\"The approach really came", "game or sport"),
    ("play", "austen", "In the evening, as Marianne", "music"),
    ("play", "austen", "With my head and heart full", "a role"),
    ("play", "austen", "\"I am going to open the instrument", "music"),
    ("play", "austen", "Hurst, by whom Elizabeth sat", "game or sport"),
    ("play", "austen", "She assured him that no one", "game or sport"),  # cards at Netherfield
    ("play", "austen", "Wickham did not play at whist", "game or sport"),
    ("play", "austen", "When this was done she had", "a role"),
    ("play", "austen", "Do you play and sing", "music"),
    ("play", "austen", "Do your sisters play and sing", "music"),
    ("play", "austen", "The Miss Webbs all play", "music"),
    ("play", "chatterbot", "Which position do you like", "game or sport"),
    ("play", "chatterbot", "I don't know how to play", "other"),  # no context: any sense
    ("play", "chatterbot", "DO YOU WANT TO PLAY BASKETBALL", "game or sport"),
    ("play", "chatterbot", "Fox play in", "a role"),
]


@dataclass(frozen=True)
class Occurrence:
    """One labelled sentence: the target ``word``, its ``sense``, and where the sentence comes from."""

    word: str
    sense: str
    corpus: str
    sentence: str


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (split after ``.``, ``!``, ``?`` and whitespace), whitespace collapsed."""
    return [" ".join(piece.split()) for piece in re.split(r"(?<=[.!?])\s+", text) if piece.strip()]


def corpus_sentences(corpus: str) -> list[str]:
    """All sentences of one packaged corpus, in corpus order."""
    if corpus == "lee":
        from helpers.corpora import gensim_data

        return [s for line in gensim_data.load_lee_background() for s in split_sentences(line)]
    if corpus == "austen":
        from helpers.corpora import austen

        return [s for lines in austen.load_books().values()
                for s in split_sentences(" ".join(line.strip() for line in lines))]
    if corpus == "chatterbot":
        from helpers.dialogues import load_chatterbot_dialogues

        return [s for ex in load_chatterbot_dialogues()
                for s in split_sentences(ex.prompt) + split_sentences(ex.answer)]
    raise ValueError(f"unknown corpus {corpus!r}; choose from {CORPORA}")


def candidates(word: str, sentences: list[str], per_corpus: int = PER_CORPUS) -> list[str]:
    """The selection rule: the first ``per_corpus`` distinct 6-40-word sentences with ``word`` once."""
    pattern = re.compile(rf"\b{re.escape(word)}\b", re.IGNORECASE)
    kept: list[str] = []
    for sentence in sentences:
        if len(pattern.findall(sentence)) == 1 and 6 <= len(sentence.split()) <= 40 and sentence not in kept:
            kept.append(sentence)
            if len(kept) == per_corpus:
                break
    return kept


def load_labelled(words: tuple[str, ...] = WORDS, keep_other: bool = False) -> list[Occurrence]:
    """The hand-labelled sentences of ``words`` (``other`` dropped unless ``keep_other``)."""
    unknown = set(words) - set(WORDS)
    if unknown:
        raise ValueError(f"no labels for {sorted(unknown)}; labelled words: {WORDS}")
    out = []
    for corpus in CORPORA:
        sentences = corpus_sentences(corpus)
        for word in words:
            found = candidates(word, sentences)
            labels = [row for row in LABELS if row[0] == word and row[1] == corpus]
            if len(found) != len(labels) or any(not s.startswith(row[2])
                                                for s, row in zip(found, labels, strict=True)):
                raise RuntimeError(f"the {corpus} sentences for {word!r} no longer match the hand labels; "
                                   "has the corpus package changed version?")
            out += [Occurrence(word, row[3], corpus, s) for s, row in zip(found, labels, strict=True)
                    if keep_other or row[3] != "other"]
    order = {w: i for i, w in enumerate(words)}
    return sorted(out, key=lambda o: order[o.word])  # stable: corpus order kept within a word
