"""The identities machine learning meets KL inside: coding length, cross-entropy fitting, the ELBO, distillation,
trust regions (Fisher information), sample estimators of KL, the direction of KL, and related divergences. Each
module derives its results with the catalog's engine and checks them like the catalog's."""
