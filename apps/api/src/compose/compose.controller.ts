import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CompositionService } from '@app/composition';
import { ComposeRequestDto, ComposeResultDto, ParseRequestDto, ParseResultDto } from './compose.dto.js';

@ApiTags('compose')
@Controller('compose')
export class ComposeController {
  constructor(private readonly composition: CompositionService) {}

  /** Composes a prompt with `<lora:…>` tokens the target generator resolves, trigger words and weights. */
  @Post()
  @HttpCode(200)
  @ApiOkResponse({ type: ComposeResultDto })
  compose(@Body() body: ComposeRequestDto): Promise<ComposeResultDto> {
    return this.composition.compose(body);
  }

  /** Extracts the `<lora:…>` (and other extra-network) tokens of a prompt, as the dialect reads them. */
  @Post('parse')
  @HttpCode(200)
  @ApiOkResponse({ type: ParseResultDto })
  parse(@Body() body: ParseRequestDto): ParseResultDto {
    return this.composition.parse(body.prompt, body.dialect);
  }
}
