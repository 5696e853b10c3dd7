"""The NLU components and dialogue policies of the spine-clinic assistant, as config.yml runs them.

The pipeline, in order (each component's module says why it exists; BENCHMARKS.md how it was chosen):

1. :mod:`clinic_nlu.spelling_corrector` (``SpellingCorrector``): the later steps read a text
   corrected against the clinic's vocabulary (:mod:`clinic_nlu.spelling`, medical words protected).
2. :mod:`clinic_nlu.multi_topic` (``QuestionSplitter``): a message with several questions is also
   classified part by part (:mod:`clinic_nlu.question_parts` splits it).
3. Rasa's ``WhitespaceTokenizer``, then :mod:`clinic_nlu.tfidf_featurizer` (TF-IDF word and
   character n-grams) and :mod:`clinic_nlu.minilm_featurizer` (the all-MiniLM-L6-v2 sentence
   embedding: :mod:`clinic_nlu.minilm`, run on ONNX Runtime by :mod:`clinic_nlu.minilm_onnx`).
4. :mod:`clinic_nlu.linear_classifier`: multinomial logistic regression over both; Rasa's
   ``FallbackClassifier`` after it.
5. ``MultiTopicCollector`` (:mod:`clinic_nlu.multi_topic`): the parts' topics, in the order asked.
6. :mod:`clinic_nlu.topic_margin_component`: a topic's facts only when the message is really about
   it, else the honest "not covered" answer (the decision: :mod:`clinic_nlu.topic_margin`).
7. ``RestoreOriginalText`` (:mod:`clinic_nlu.spelling_corrector`): the typed text back for the triage.
8. :mod:`clinic_nlu.triage_component`, last: the clinical triage (:mod:`clinic_triage`) decides
   escalation from the words, whatever the classifiers predicted.

Policies: :mod:`clinic_nlu.windowed_policies` (Rasa's memoization and rule policies, predicting from
the recent turns of a long conversation). For evaluation only: :mod:`clinic_nlu.typo_noise` (the
held-out typo split's noise) and :mod:`clinic_nlu.typo_augmenter` (a training-time variant that was
measured and not chosen; bench/configs/).
"""
