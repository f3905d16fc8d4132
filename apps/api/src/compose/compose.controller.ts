import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CompositionService } from '@app/composition';
import type { Principal } from '@app/core';
import { DeliveryService, DisclosurePolicy } from '@app/delivery';
import { CurrentPrincipal } from '../common/principal.decorator.js';
import { ComposeAndDeliverRequestDto, ComposeAndDeliverResultDto } from '../deliveries/deliveries.dto.js';
import { toDeliveryJobDto } from '../deliveries/deliveries.mapper.js';
import { ParseRequestDto, ParseResultDto } from './compose.dto.js';
import { ApiErrorResponses, ApiWriteErrors } from '../common/api-docs.js';

@ApiTags('compose')
@Controller('compose')
export class ComposeController {
  constructor(
    private readonly composition: CompositionService,
    private readonly deliveries: DeliveryService,
    private readonly disclosure: DisclosurePolicy,
  ) {}

  /**
   * Composes a prompt with `<lora:…>` tokens the target generator resolves, trigger words and weights. With a
   * `delivery` block, also queues a delivery of the composed prompt (checked like `POST /deliveries`).
   */
  @Post()
  @HttpCode(200)
  @ApiOkResponse({ type: ComposeAndDeliverResultDto })
  @ApiWriteErrors()
  async compose(
    @Body() body: ComposeAndDeliverRequestDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ComposeAndDeliverResultDto> {
    const { delivery, ...request } = body;
    const result = await this.composition.compose(request);
    if (!delivery) return result;
    const job = await this.deliveries.create(
      { ...delivery, prompt: result.prompt, negativePrompt: result.negativePrompt || undefined },
      principal,
    );
    return { ...result, delivery: toDeliveryJobDto(job, this.disclosure, principal.role) };
  }

  /** Extracts the `<lora:…>` (and other extra-network) tokens of a prompt, as the dialect reads them. */
  @Post('parse')
  @HttpCode(200)
  @ApiOkResponse({ type: ParseResultDto })
  @ApiErrorResponses(400, 401, 403, 413, 415)
  parse(@Body() body: ParseRequestDto): ParseResultDto {
    return this.composition.parse(body.prompt, body.dialect);
  }
}
