import { Module } from '@nestjs/common';
import { AdaptersModule } from '@app/adapters';
import { GenerationModule } from '@app/generation';
import { GenerationResultRepository } from '../generation-result.repository.js';
import { RecipeLoraMatcher } from './recipe-loras.js';
import { RecipeRepository } from './recipe.repository.js';
import { RecipesService } from './recipes.service.js';

/** Recipes: the API's module (the worker runs none of it). */
@Module({
  imports: [AdaptersModule, GenerationModule],
  providers: [RecipeRepository, RecipeLoraMatcher, RecipesService, GenerationResultRepository],
  exports: [RecipesService],
})
export class RecipesModule {}
