"""Vocabulary shared by the models and the replicas: ids, quorum systems."""
