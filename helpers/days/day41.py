"""Day 41 (capstone: "ask the course", retrieval-augmented generation): what each profile reads and runs.

The method is the same everywhere (chunk, embed, retrieve, prompt, answer greedily, cite, abstain); the
profiles change which pages are indexed, the FAQ's size, the models and how many answers are generated.
"""

from typing import Any

#: The pages of the ``ci`` snapshot (``data/day41_course_pages.jsonl.gz``, made by
#: ``python -m helpers.rag snapshot``): the guide pages of the book and the days that today's assistant is
#: built from (decoding 23, embeddings 25, QA 29, semantic search 30, LoRA 34). A fixed snapshot, so that
#: editing another day's prose does not change this notebook's outputs; the other profiles read every page.
SNAPSHOT_PATTERNS = ("book/*.md", "notebooks/day23_*.py", "notebooks/day25_*.py", "notebooks/day29_*.py",
                     "notebooks/day30_*.py", "notebooks/day34_*.py")

SETTINGS: dict[str, dict[str, Any]] = {
    "common": {
        "embedder_id": "sentence-transformers/all-MiniLM-L6-v2",
        "llm_id": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "pages": "live",  # "live": chunk the repository's pages now; "snapshot": read the ci snapshot
        "page_patterns": ["book/*.md", "notebooks/day*.py"],
        "max_words": 120,  # words per passage: ~160 word pieces, under MiniLM's 256-token limit
        "max_seq_length": 256,  # word pieces that the embedder reads per passage (MiniLM's own limit)
        "faq_topics": None,  # chatterbot-corpus English topics for the FAQ; None = all of them
        "n_faq_questions": 80,  # FAQ entries whose paraphrases are asked (retrieval metrics)
        "k_values": [1, 3, 5, 10],  # hit@k
        "context_k": 3,  # passages put in the prompt
        "threshold": 0.30,  # abstain when the best passage's cosine is below this (MiniLM's scale)
        "max_new_tokens": 64,
        "n_answer_course": None,  # course questions answered by the LLM (None = all)
        "n_answer_faq": 20,  # FAQ paraphrases answered by the LLM
        "embed_batch_size": 32,
    },
    "ci": {
        # Offline: the snapshot of ~190 passages and 8 FAQ topics (~160 entries), embedded from their first
        # 128 word pieces (half the encoding time; the rest of a long passage is not searched);
        # SmolLM2-135M (packaged, 4-bit GGUF dequantized) answers 5 course and 3 FAQ questions from 2
        # passages each (about 4 s of CPU per answer).
        "pages": "snapshot",
        "max_seq_length": 128,
        "faq_topics": ["ai", "botprofile", "computers", "health", "history", "literature", "money",
                       "science"],
        "n_faq_questions": 40,
        "context_k": 2,
        "max_new_tokens": 32,
        "n_answer_course": 5,
        "n_answer_faq": 3,
    },
    "laptop": {
        # Every page of the course (~1,000 passages, a few minutes to embed on a CPU) and the whole
        # English chatterbot FAQ (748 entries); the published SmolLM2 weights answer every question.
        "n_answer_faq": 20,
    },
    "gpu": {
        # The seed's setting: a multilingual embedder (the seed used English-only MiniLM on Chinese text)
        # and a 1.5B instruct model; its cosines run on another scale, so re-read the threshold off the
        # histogram of best scores before trusting the abstentions.
        "embedder_id": "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2",
        "llm_id": "Qwen/Qwen2.5-1.5B-Instruct",
        "n_faq_questions": 200,
        "context_k": 4,
        "max_new_tokens": 96,
        "n_answer_faq": 60,
        "embed_batch_size": 128,
    },
}

#: An LLM day: its ci run may take up to 120 s (tests/conftest.py checks the kernel CPU time).
CI_BUDGET_S = 120
